/*
 * fuzz_config.c — libFuzzer target: arbitrary bytes as a config file from memory.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -D_GNU_SOURCE \
 *       tests/fuzz/fuzz_config.c base/config.c base/util.c -o build/fuzz_config \
 *       -lconfig -lcrypto -lm
 *   ./build/fuzz_config -max_total_time=120 CORPUS_DIR
 *
 * The first byte's low bit selects check_files. The loader's problem reports go to /dev/null
 * through the stderr FILE only: libFuzzer and the sanitizers keep writing their own reports to
 * file descriptor 2.
 *
 * libconfig 1.5 leaks the string token (or the string being concatenated) that a syntax
 * error cuts short (hyperrealm/libconfig#142, fixed upstream with a bison %destructor): a few
 * bytes per failed parse, allocated in its lexer. Leaks allocated there are suppressed below;
 * every other leak still fails the run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\nleak:libconfig_yyparse\n";
}

/*
 * Those leaks make libFuzzer run a full leak check after most inputs, and a check walks every
 * heap chunk, the quarantine's too: with ASan's default 256 MB quarantine the target slows
 * down fourfold within a minute. A small quarantine still outlives any one input.
 */
const char *
__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *devnull = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	if (devnull != NULL)
		stderr = devnull;
	/* Secrets named by *_env in fuzzed configs resolve to this, not to the real environment. */
	setenv("PS_FUZZ_TOKEN", "fuzz-token", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char *text;
	int check_files;

	if (size == 0)
		return 0;
	check_files = data[0] & 1;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (config_load_string("fuzz", text, &cfg, check_files) == 0)
		config_free(&cfg);
	free(text);
	return 0;
}
