"""history.py -- the direct messages fake users sent one another (the send_dm control op of
events.py keeps them in S.events.dms) as each platform's history shows them, for
peoplesync's catch-up: Slack DM channels (conversations.list types=im), Graph oneOnOne
chats (/users/{id}/chats, /chats/{id}/messages), Webex direct rooms (/rooms,
/messages?roomId=).

One DM has one set of ids whichever way it is seen: dm_ids(S, dm) fills them in the DM
record once (Slack channel/ts are set by events.py when it sends; Graph chat and message
id, Webex room and message id here), so that an event the fake posts and the history the
catch-up reads name the same message.  sync(S) copies DMs not yet seen into the platform
structures the history endpoints read (idempotent: by the DM's seq)."""

import hashlib
import time
import uuid

import genorg


def _pair(dm):
    return tuple(sorted((dm["from"], dm["to"])))


def _iso(sent, graph):
    """events.py records sent as ISO with milliseconds; Graph writes 7 digits."""
    return sent[:-1] + "0000Z" if graph and sent.endswith("Z") else sent


def dm_ids(S, dm):
    """The platform ids of a DM record, filled in once; returns the record."""
    p = dm["platform"]
    a, b = _pair(dm)
    if p == "teams":
        dm.setdefault("chat", "19:%s_%s@unq.gbl.spaces" % (a, b))
        dm.setdefault("message_id", str(1700000000000 + int(dm["seq"])))
        dm.setdefault("created", _iso(dm["sent"], True))
    elif p == "webex":
        dm.setdefault("room", genorg.webex_id("ROOM", str(uuid.uuid5(
            uuid.NAMESPACE_URL, "dmroom:%s:%s" % (a, b)))))
        dm.setdefault("message_id", genorg.webex_id("MESSAGE", str(uuid.uuid5(
            uuid.NAMESPACE_URL, "dm:%d" % int(dm["seq"])))))
        dm.setdefault("created", dm["sent"])
    elif p == "slack" and "channel" not in dm:
        h = hashlib.sha1(("dm:%s:%s" % (a, b)).encode()).hexdigest().upper()
        dm["channel"] = "D1" + h[:9]
        dm["ts"] = "%d.%06d" % (int(time.time()), int(dm["seq"]) % 1000000)
    return dm


def dms(S):
    ev = getattr(S, "events", None)
    if ev is None:
        return []
    with ev.lock:
        return list(ev.dms)


def sync(S):
    """Every DM not yet copied goes into the structures the history endpoints read."""
    done = S.__dict__.setdefault("history_synced", set())
    for dm in dms(S):
        if dm["seq"] in done:
            continue
        dm_ids(S, dm)
        with S.lock:
            done.add(dm["seq"])
            {"slack": _slack, "teams": _graph, "webex": _webex}[dm["platform"]](S, dm)


def _slack(S, dm):
    ims = S.__dict__.setdefault("slack_user_ims", {})
    ims[dm["channel"]] = list(_pair(dm))
    msgs = S.channel_msgs[dm["channel"]]
    if not any(m.get("ts") == dm["ts"] for m in msgs):    # events.py may have put it
        msgs.append({"type": "message", "user": dm["from"], "text": dm["text"],
                     "ts": dm["ts"]})


def _graph(S, dm):
    c = S.chats.setdefault(dm["chat"], {"members": list(_pair(dm)), "created": dm["created"],
                                        "updated": dm["created"], "messages": []})
    c["updated"] = dm["created"]
    c["messages"].append({
        "id": dm["message_id"], "replyToId": None, "etag": dm["message_id"],
        "messageType": "message", "createdDateTime": dm["created"],
        "lastModifiedDateTime": dm["created"], "deletedDateTime": None, "subject": None,
        "chatId": dm["chat"], "importance": "normal", "locale": "en-us",
        "from": {"application": None, "device": None,
                 "user": {"id": dm["from"], "displayName": None,
                          "userIdentityType": "aadUser"}},
        "body": {"contentType": "text", "content": dm["text"]},
        "attachments": [], "mentions": [], "reactions": []})


def _webex(S, dm):
    rooms = S.__dict__.setdefault("webex_rooms", {})
    rooms[dm["room"]] = {"members": list(_pair(dm)), "lastActivity": dm["created"]}
    S.channel_msgs[dm["room"]].append({
        "id": dm["message_id"], "roomId": dm["room"], "roomType": "direct",
        "text": dm["text"], "personId": dm["from"], "created": dm["created"],
        "isVoiceClip": False})


def slack_ims(S, user):
    """The DM channels of a Slack user (their user token's conversations.list)."""
    sync(S)
    with S.lock:
        return sorted(ch for ch, mem in S.__dict__.get("slack_user_ims", {}).items()
                      if user in mem)


def graph_chats(S, user):
    sync(S)
    with S.lock:
        return [(cid, c) for cid, c in S.chats.items() if user in c["members"]]


def webex_rooms(S, user):
    sync(S)
    with S.lock:
        rooms = [(rid, r) for rid, r in S.__dict__.get("webex_rooms", {}).items()
                 if user in r["members"]]
    return sorted(rooms, key=lambda x: x[1]["lastActivity"], reverse=True)
