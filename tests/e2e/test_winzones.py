"""The Windows -> IANA zone table (base/winzones.c) is what scripts/gen-winzones.py makes of
data/cldr/windowsZones.xml, and the mapping is CLDR's (territory 001)."""
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XML = os.path.join(ROOT, "data", "cldr", "windowsZones.xml")
GEN = os.path.join(ROOT, "scripts", "gen-winzones.py")


def generate(xml):
    return subprocess.run([sys.executable, GEN, xml], check=True, capture_output=True,
                          text=True).stdout


class TestWinzones(unittest.TestCase):
    def test_the_checked_in_table_is_the_generators_output(self):
        with open(os.path.join(ROOT, "base", "winzones.c")) as f:
            self.assertEqual(f.read(), generate(XML),
                             "base/winzones.c differs: run scripts/gen-winzones.py")

    def test_every_territory_001_row_is_in_the_table(self):
        table = generate(XML)
        rows = [z for z in ET.parse(XML).getroot().iter("mapZone")
                if z.get("territory") == "001"]
        self.assertGreater(len(rows), 130)
        for z in rows:
            self.assertIn('{ "%s", "%s" },' % (z.get("other"), z.get("type").split()[0]), table)

    def test_a_changed_xml_changes_the_table(self):
        with open(XML, encoding="utf-8") as f:
            text = f.read()
        self.assertIn('other="Romance Standard Time" territory="001" type="Europe/Paris"', text)
        with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False,
                                         encoding="utf-8") as t:
            t.write(text.replace('territory="001" type="Europe/Paris"',
                                 'territory="001" type="Europe/Brussels"'))
        try:
            out = generate(t.name)
        finally:
            os.unlink(t.name)
        self.assertIn('{ "Romance Standard Time", "Europe/Brussels" },', out)
        with open(os.path.join(ROOT, "base", "winzones.c")) as f:
            self.assertNotEqual(f.read(), out)


if __name__ == "__main__":
    unittest.main()
