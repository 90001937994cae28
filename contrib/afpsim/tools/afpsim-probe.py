#!/usr/bin/env python3
"""A small AFP-over-DSI client for checking afpsim (and other AFP servers).

Not the sharesfs client: a throwaway-quality but careful probe, with the
login math of the DH UAMs written out so it can be checked against the
keylog vectors of tests/data/afp/netatalk-4.0.3dev (p08, p09):

    afpsim-probe.py --keylog-selftest DIR       # replays p08/p09 byte for byte
    afpsim-probe.py 127.0.0.181:10548 --status
    afpsim-probe.py 127.0.0.181:10548 --uam dhx2 --user afpuser --password afppass \
        --volume Private --ls / --cat secret.txt

Needs python3-cryptography (CAST5) for the DH UAMs.
"""
import argparse
import hashlib
import json
import os
import socket
import struct
import sys

try:  # cryptography >= 43 moved CAST5 to "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import CAST5
except ImportError:  # pragma: no cover
    try:
        from cryptography.hazmat.primitives.ciphers.algorithms import CAST5
    except ImportError:
        CAST5 = None
if CAST5 is not None:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

# DSI commands
CLOSE, COMMAND, GETSTATUS, OPENSESSION, TICKLE, WRITE, ATTENTION = 1, 2, 3, 4, 5, 6, 8
# AFP commands
FP = dict(CloseVol=2, CloseFork=4, CreateDir=6, CreateFile=7, Delete=8, Flush=10, FlushFork=11,
          GetForkParms=14, GetSrvrInfo=15, GetSrvrParms=16, GetVolParms=17, Login=18,
          LoginCont=19, Logout=20, MoveAndRename=23, OpenVol=24, OpenFork=26, Rename=28,
          SetForkParms=31, GetFileDirParms=34, SetFileDirParms=35, GetSrvrMsg=38, ReadExt=60,
          WriteExt=61, LoginExt=63, EnumerateExt2=68, GetExtAttr=69, SetExtAttr=70,
          RemoveExtAttr=71, ListExtAttrs=72)
UAMS = {"guest": "No User Authent", "clrtxt": "Cleartxt Passwrd", "dhx": "DHCAST128",
        "dhx2": "DHX2", "krb": "Client Krb v2"}
HINT = 0x08000103
IV_C, IV_S = b"LWallace", b"CJalbert"
DHCAST_P = int("ba2873dfb06057d43f2024744ceee75b", 16)
DHCAST_G = 7


class AFPError(Exception):
    def __init__(self, code, what=""):
        super().__init__("%s: AFP result %d" % (what, code))
        self.code = code


def cast5(key, iv, data, encrypt):
    if CAST5 is None:
        raise RuntimeError("python3-cryptography with CAST5 is needed for the DH UAMs")
    c = Cipher(CAST5(key), modes.CBC(iv))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def inc16(b):
    return ((int.from_bytes(b, "big") + 1) % (1 << 128)).to_bytes(16, "big")


def pstr(s):
    b = s.encode() if isinstance(s, str) else s
    return bytes([len(b)]) + b


def path3(p):
    """Type-3 pathname: components separated by NUL."""
    comps = [c for c in p.split("/") if c not in ("", ".")]
    body = b"\0".join(c.replace(":", "/").encode() for c in comps)
    return struct.pack(">BIH", 3, HINT, len(body)) + body


def pad_even(b):
    return b + b"\0" if len(b) % 2 else b


def parse_status(b):
    """FPGetSrvrInfo block -> dict (strict: raises on anything out of range)."""
    def u16(o):
        if o + 2 > len(b):
            raise ValueError("u16 at %d outside %d bytes" % (o, len(b)))
        return struct.unpack_from(">H", b, o)[0]

    def ps(o):
        if o >= len(b) or o + 1 + b[o] > len(b):
            raise ValueError("pstring at %d outside" % o)
        return b[o + 1:o + 1 + b[o]].decode("latin-1"), o + 1 + b[o]

    def plist(o):
        n, o, out = b[o], o + 1, []
        for _ in range(n):
            s, o = ps(o)
            out.append(s)
        return out
    d = {"flags": u16(8)}
    d["server_name"], end = ps(10)
    d["machine_type"] = ps(u16(0))[0]
    d["versions"] = plist(u16(2))
    d["uams"] = plist(u16(4))
    d["icon_offset"] = u16(6)
    end += end & 1
    sig, addr, dirn, utf8 = u16(end), u16(end + 2), u16(end + 4), u16(end + 6)
    if sig:
        if sig + 16 > len(b):
            raise ValueError("signature outside")
        d["signature"] = b[sig:sig + 16]
    if addr:
        n, o, out = b[addr], addr + 1, []
        for _ in range(n):
            ln, tag = b[o], b[o + 1]
            if ln < 2 or o + ln > len(b):
                raise ValueError("address outside")
            out.append((tag, b[o + 2:o + ln]))
            o += ln
        d["addresses"] = out
    if dirn:
        d["dirnames"] = plist(dirn)
    if utf8:
        ln = u16(utf8)
        if utf8 + 2 + ln > len(b):
            raise ValueError("utf8 name outside")
        d["utf8_name"] = b[utf8 + 2:utf8 + 2 + ln].decode()
    return d


class DSI:
    def __init__(self, host, port, timeout=30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rid = 0
        self.attentions = []
        self.server_requests = []
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(max(65536, n - len(self.buf)))
            if not d:
                raise EOFError("server closed the connection")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_message(self):
        h = self._recv(16)
        flags, cmd, rid, code, ln, _ = struct.unpack(">BBHiII", h)
        return flags, cmd, rid, code, self._recv(ln) if ln else b""

    def send(self, cmd, payload=b"", code=0):
        rid = self.rid
        self.rid = (self.rid + 1) & 0xffff
        self.sock.sendall(struct.pack(">BBHiII", 0, cmd, rid, code, len(payload), 0) + payload)
        return rid

    def wait(self, rid):
        while True:
            flags, cmd, r, code, data = self.read_message()
            if flags == 0:  # a server request: tickle, attention, close
                self.server_requests.append((cmd, r, data))
                if cmd == ATTENTION:
                    self.attentions.append(data)
                if cmd == CLOSE:
                    raise EOFError("server closed the session")
                continue
            if r != rid:
                raise ValueError("reply for request %d, expected %d" % (r, rid))
            return code, data

    def request(self, cmd, payload=b"", code=0):
        return self.wait(self.send(cmd, payload, code))

    def afp(self, payload, what=None, ok=(0,)):
        code, data = self.request(COMMAND, payload)
        if code not in ok:
            raise AFPError(code, what or "AFP %d" % payload[0])
        return code, data


def get_status(host, port):
    d = DSI(host, port)
    try:
        code, data = d.request(GETSTATUS, b"\x0f\x00")
        return data
    finally:
        d.close()


class Session:
    def __init__(self, host, port, timeout=30.0):
        self.d = DSI(host, port, timeout)
        code, opts = self.d.request(OPENSESSION, bytes([1, 4]) + struct.pack(">I", 1024))
        self.options = {}
        o = 0
        while o + 2 <= len(opts):
            t, ln = opts[o], opts[o + 1]
            self.options[t] = int.from_bytes(opts[o + 2:o + 2 + ln], "big")
            o += 2 + ln
        self.quantum = self.options.get(0, 0)

    # ---------------------------------------------------------------- login
    def login(self, uam, user="", password="", version="AFP3.4", ext=False, keylog=None,
              rand=None):
        """Runs a whole login.  rand(n) supplies random bytes (tests replay
        the keylog vectors with it).  keylog (a list) collects the secrets."""
        rand = rand or os.urandom
        name = UAMS.get(uam, uam)
        if ext:
            u = user.encode()
            head = (bytes([FP["LoginExt"], 0]) + b"\0\0" + pstr(version) + pstr(name) +
                    struct.pack(">BH", 3, len(u)) + u + struct.pack(">BH", 3, 0))
            head = pad_even(head)
            userpart = b""
        else:
            head = bytes([FP["Login"]]) + pstr(version) + pstr(name)
            userpart = pstr(user) if name != "No User Authent" else b""
        if name == "No User Authent":
            return self.d.afp(head, "FPLogin")
        if name == "Cleartxt Passwrd":
            body = pad_even(head + userpart) if userpart else head
            return self.d.afp(body + password.encode().ljust(8, b"\0")[:8], "FPLogin")
        if name == "DHCAST128":
            ra = int.from_bytes(rand(16), "big")
            ma = pow(DHCAST_G, ra, DHCAST_P).to_bytes(16, "big")
            if keylog is not None:
                keylog.append({"Ra": "%032x" % ra, "Ma": ma.hex()})
            body = (pad_even(head + userpart) if userpart else head) + ma
            code, data = self.d.afp(body, "FPLogin", ok=(-5001,))
            if len(data) != 50:
                raise ValueError("DHCAST128: reply of %d bytes" % len(data))
            sid, mb = data[:2], int.from_bytes(data[2:18], "big")
            if not 1 < mb < DHCAST_P - 1:
                raise ValueError("DHCAST128: server value out of range")
            k = pow(mb, ra, DHCAST_P).to_bytes(16, "big")
            clear = cast5(k, IV_S, data[18:50], False)
            nonce = clear[:16]
            if clear[16:] != bytes(16):
                raise ValueError("DHCAST128: server signature not zero")
            if keylog is not None:
                keylog.append({"Mb": data[2:18].hex(), "K": k.hex(), "server_nonce": nonce.hex()})
            enc = cast5(k, IV_C, inc16(nonce) + password.encode().ljust(64, b"\0"), True)
            return self.d.afp(bytes([FP["LoginCont"], 0]) + sid + enc, "FPLoginCont")
        if name == "DHX2":
            body = pad_even(head + userpart) if userpart else head
            code, data = self.d.afp(body, "FPLogin", ok=(-5001,))
            sid = data[:2]
            g = int.from_bytes(data[2:6], "big")
            ln = struct.unpack(">H", data[6:8])[0]
            if len(data) != 8 + 2 * ln or ln < 16:
                raise ValueError("DHX2: reply of %d bytes for len %d" % (len(data), ln))
            p = int.from_bytes(data[8:8 + ln], "big")
            mb = int.from_bytes(data[8 + ln:8 + 2 * ln], "big")
            if not 1 < mb < p - 1:
                raise ValueError("DHX2: server value out of range")
            ra = int.from_bytes(rand(ln), "big") % p
            ma = pow(g, ra, p).to_bytes(ln, "big")
            k = hashlib.md5(pow(mb, ra, p).to_bytes(ln, "big")).digest()
            cnonce = rand(16)
            if keylog is not None:
                keylog.append({"g": g, "p": "%x" % p, "Mb": "%x" % mb, "Ra": "%x" % ra,
                               "Ma": ma.hex(), "K": k.hex(), "client_nonce": cnonce.hex()})
            req = bytes([FP["LoginCont"], 0]) + sid + ma + cast5(k, IV_C, cnonce, True)
            code, data = self.d.afp(req, "FPLoginCont", ok=(-5001,))
            if len(data) != 34:
                raise ValueError("DHX2: second reply of %d bytes" % len(data))
            clear = cast5(k, IV_S, data[2:34], False)
            if clear[:16] != inc16(cnonce):
                raise ValueError("DHX2: server did not prove the key")
            snonce = clear[16:]
            if keylog is not None:
                keylog.append({"server_nonce": snonce.hex()})
            enc = cast5(k, IV_C, inc16(snonce) + password.encode().ljust(256, b"\0"), True)
            return self.d.afp(bytes([FP["LoginCont"], 0]) + data[:2] + enc, "FPLoginCont")
        return self.d.afp(head + (pad_even(userpart) if userpart else b""), "FPLogin")

    def logout(self):
        try:
            self.d.afp(bytes([FP["Logout"], 0]), "FPLogout")
        finally:
            self.d.close()

    # -------------------------------------------------------------- volumes
    def volumes(self):
        _, data = self.d.afp(bytes([FP["GetSrvrParms"], 0]), "FPGetSrvrParms")
        n, o, out = data[4], 5, []
        for _ in range(n):
            flags = data[o]
            name, o = data[o + 2:o + 2 + data[o + 1]].decode(), o + 2 + data[o + 1]
            out.append((flags, name))
        return out

    def open_volume(self, name, bitmap=0x0023):
        _, data = self.d.afp(bytes([FP["OpenVol"], 0]) + struct.pack(">H", bitmap) + pstr(name),
                             "FPOpenVol")
        self.vol = struct.unpack_from(">H", data, 6)[0] if bitmap == 0x0023 else None
        return data

    # --------------------------------------------------------------- catalog
    def enumerate(self, path, dir_id=2, fbm=0xa91f, dbm=0xaf1f, req=200, maxreply=0x10000):
        start, out = 1, []
        while True:
            code, data = self.d.afp(
                struct.pack(">BBHIHHHII", FP["EnumerateExt2"], 0, self.vol, dir_id, fbm, dbm,
                            req, start, maxreply) + path3(path), "FPEnumerateExt2",
                ok=(0, -5018))
            if code == -5018:
                return out
            _, _, count = struct.unpack_from(">HHH", data)
            o = 6
            for _ in range(count):
                ln = struct.unpack_from(">H", data, o)[0]
                if ln < 4 or o + ln > len(data):
                    raise ValueError("entry length %d outside the reply" % ln)
                isdir = bool(data[o + 2] & 0x80)
                out.append(decode_params(data[o + 4:o + ln], dbm if isdir else fbm, isdir))
                o += ln
            if o != len(data):
                raise ValueError("%d bytes after the last entry" % (len(data) - o))
            start += count

    def getparms(self, path, dir_id=2, fbm=0x892f, dbm=0x830f):
        _, data = self.d.afp(struct.pack(">BBHIHH", FP["GetFileDirParms"], 0, self.vol, dir_id,
                                         fbm, dbm) + path3(path), "FPGetFileDirParms")
        isdir = bool(data[4] & 0x80)
        return decode_params(data[6:], dbm if isdir else fbm, isdir)

    def simple(self, cmd, path, dir_id=2, flag=0, extra=b"", ok=(0,)):
        return self.d.afp(struct.pack(">BBHI", FP[cmd], flag, self.vol, dir_id) + path3(path) +
                          extra, "FP" + cmd, ok=ok)

    def create_file(self, path, hard=False):
        return self.simple("CreateFile", path, flag=0x80 if hard else 0)

    def create_dir(self, path):
        return struct.unpack(">I", self.simple("CreateDir", path)[1])[0]

    def delete(self, path):
        return self.simple("Delete", path)

    def rename(self, path, new):
        return self.simple("Rename", path, extra=path3(new))

    def move(self, src, dst_dir_path, new="", src_dir=2, dst_dir=2):
        return self.d.afp(struct.pack(">BBHII", FP["MoveAndRename"], 0, self.vol, src_dir, dst_dir)
                          + path3(src) + path3(dst_dir_path) + path3(new), "FPMoveAndRename")

    def set_params(self, path, bitmap, params):
        req = pad_even(struct.pack(">BBHIH", FP["SetFileDirParms"], 0, self.vol, 2, bitmap) +
                       path3(path))
        return self.d.afp(req + params, "FPSetFileDirParms")

    # ----------------------------------------------------------------- forks
    def open_fork(self, path, access=1, bitmap=0x0800, dir_id=2):
        _, data = self.d.afp(struct.pack(">BBHIHH", FP["OpenFork"], 0, self.vol, dir_id, bitmap,
                                         access) + path3(path), "FPOpenFork")
        ref = struct.unpack_from(">H", data, 2)[0]
        size = struct.unpack_from(">Q", data, 4)[0] if bitmap == 0x0800 else None
        return ref, size

    def read(self, ref, off, count):
        code, data = self.d.request(COMMAND, struct.pack(">BBHQQ", FP["ReadExt"], 0, ref, off,
                                                         count))
        if code not in (0, -5009):
            raise AFPError(code, "FPReadExt")
        return code, data

    def read_pipelined(self, ref, size, chunk, depth=4, sink=None):
        """Reads [0, size) with several requests in flight."""
        h = hashlib.sha256()
        off, pending, got = 0, [], 0
        while off < size or pending:
            while off < size and len(pending) < depth:
                n = min(chunk, size - off)
                pending.append((self.d.send(COMMAND, struct.pack(">BBHQQ", FP["ReadExt"], 0,
                                                                  ref, off, n)), n))
                off += n
            rid, n = pending.pop(0)
            code, data = self.d.wait(rid)
            if code not in (0, -5009) or len(data) != n:
                raise ValueError("read of %d: code %d, %d bytes" % (n, code, len(data)))
            h.update(data)
            got += len(data)
        return got, h.hexdigest()

    def write(self, ref, off, data):
        hdr = struct.pack(">BBHQQ", FP["WriteExt"], 0, ref, off, len(data))
        code, rep = self.d.request(WRITE, hdr + data, code=len(hdr))
        if code:
            raise AFPError(code, "FPWriteExt")
        return struct.unpack(">Q", rep)[0]

    def close_fork(self, ref):
        return self.d.afp(struct.pack(">BBH", FP["CloseFork"], 0, ref), "FPCloseFork")

    def flush_fork(self, ref):
        return self.d.afp(struct.pack(">BBH", FP["FlushFork"], 0, ref), "FPFlushFork")

    # ---------------------------------------------------------------- xattrs
    def list_xattrs(self, path, maxreply=4096):
        code, data = self.d.afp(struct.pack(">BBHIHHII", FP["ListExtAttrs"], 0, self.vol, 2, 0, 0,
                                            0, maxreply) + path3(path), "FPListExtAttrs")
        n = struct.unpack_from(">I", data, 2)[0]
        return [x.decode() for x in data[6:6 + n].split(b"\0") if x] if maxreply else n

    def get_xattr(self, path, name, maxreply=4096, ok=(0,)):
        req = pad_even(struct.pack(">BBHIHQQI", FP["GetExtAttr"], 0, self.vol, 2, 0, 0, 1 << 20,
                                   maxreply) + path3(path))
        code, data = self.d.afp(req + struct.pack(">H", len(name)) + name.encode(),
                                "FPGetExtAttr", ok=ok)
        if code:
            return code, None
        n = struct.unpack_from(">I", data, 2)[0]
        return code, data[6:6 + n] if maxreply else n

    def set_xattr(self, path, name, value):
        req = pad_even(struct.pack(">BBHIHQ", FP["SetExtAttr"], 0, self.vol, 2, 0, 0) + path3(path))
        return self.d.afp(req + struct.pack(">H", len(name)) + name.encode() +
                          struct.pack(">I", len(value)) + value, "FPSetExtAttr")

    def remove_xattr(self, path, name):
        req = pad_even(struct.pack(">BBHIH", FP["RemoveExtAttr"], 0, self.vol, 2, 0) + path3(path))
        return self.d.afp(req + struct.pack(">H", len(name)) + name.encode(), "FPRemoveExtAttr")


def decode_params(b, bitmap, isdir):
    """Decodes a file/dir parameter block (the bits afpsim-probe asks for)."""
    o, d = 0, {"dir": isdir}

    def take(fmt):
        nonlocal o
        v = struct.unpack_from(fmt, b, o)
        o += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v
    for bit in range(16):
        if not bitmap & (1 << bit):
            continue
        if bit == 0: d["attr"] = take(">H")
        elif bit == 1: d["parent"] = take(">I")
        elif bit == 2: d["cdate"] = take(">i")
        elif bit == 3: d["mdate"] = take(">i")
        elif bit == 4: d["bdate"] = take(">i")
        elif bit == 5: d["finfo"] = b[o:o + 32]; o += 32
        elif bit == 6: d["long_off"] = take(">H")
        elif bit == 7: d["short_off"] = take(">H")
        elif bit == 8: d["id"] = take(">I")
        elif bit == 9: d["offspring" if isdir else "size32"] = take(">H" if isdir else ">I")
        elif bit == 10: d["owner" if isdir else "rsize"] = take(">I")
        elif bit == 11: d["group" if isdir else "size"] = take(">I" if isdir else ">Q")
        elif bit == 12: d["rights"] = take(">I")
        elif bit == 13:
            off = take(">H"); o += 4
            if off + 6 > len(b):
                raise ValueError("UTF-8 name offset %d outside a %d-byte block" % (off, len(b)))
            ln = struct.unpack_from(">H", b, off + 4)[0]
            if off + 6 + ln > len(b):
                raise ValueError("UTF-8 name outside the block")
            d["name"] = b[off + 6:off + 6 + ln].decode()
        elif bit == 14: d["rsize64"] = take(">Q")
        elif bit == 15: d["unix"] = take(">IIII")
    return d


def keylog_selftest(vectors):
    """Recomputes the client side of p08 (DHX2) and p09 (DHCAST128) from the
    keylog and compares with the captured FPLoginCont payloads."""
    def dsi_lines(name):
        with open(os.path.join(vectors, name + ".dsi.txt")) as f:
            return [l for l in f if not l.startswith("#")]

    def payload(line):
        return bytes.fromhex(line.split("|")[1].split()[1]) if len(line.split("|")[1].split()) > 1 else b""
    ok = True
    # p08: DHX2
    kl = [json.loads(l) for l in open(os.path.join(vectors, "p08-dhx2-keylog-private.keylog.jsonl"))]
    k0, k1 = kl[0], kl[1]
    lines = [l for l in dsi_lines("p08-dhx2-keylog-private") if "FPLogin" in l]
    p, g = int(k0["p"], 16), k0["g"]
    ra = int(k0["Ra"], 16)
    ln = len(k0["p"]) // 2
    ma = pow(g, ra, p).to_bytes(ln, "big")
    k = hashlib.md5(pow(int(k0["Mb"], 16), ra, p).to_bytes(ln, "big")).digest()
    cont1 = payload(lines[2])
    exp1 = cont1[4:4 + ln] + cast5(k, IV_C, bytes.fromhex(k0["client_nonce"]), True)
    r = ma.hex() == k0["Ma"] and k.hex() == k0["K"] and cont1[4:] == exp1
    rep2 = payload(lines[3])
    clear = cast5(k, IV_S, rep2[2:34], False)
    r = r and clear[:16] == inc16(bytes.fromhex(k0["client_nonce"])) and clear[16:].hex() == k1["server_nonce"]
    cont2 = payload(lines[4])
    exp2 = cast5(k, IV_C, inc16(clear[16:]) + k0["password"].encode().ljust(256, b"\0"), True)
    r = r and cont2[4:] == exp2
    print("p08 DHX2 keylog: %s" % ("OK" if r else "MISMATCH"))
    ok &= r
    # p09: DHCAST128
    kl = [json.loads(l) for l in open(os.path.join(vectors, "p09-dhcast128-keylog-private.keylog.jsonl"))]
    k0, k1 = kl[0], kl[1]
    lines = [l for l in dsi_lines("p09-dhcast128-keylog-private") if "FPLogin" in l]
    ra = int(k0["Ra"], 16)
    ma = pow(DHCAST_G, ra, DHCAST_P).to_bytes(16, "big")
    login = payload(lines[0])
    rep = payload(lines[1])
    k = pow(int.from_bytes(rep[2:18], "big"), ra, DHCAST_P).to_bytes(16, "big")
    clear = cast5(k, IV_S, rep[18:50], False)
    cont = payload(lines[2])
    exp = cast5(k, IV_C, inc16(clear[:16]) + k1["password"].encode().ljust(64, b"\0"), True)
    r = (login[-16:] == ma and ma.hex() == k0["Ma"] and k.hex() == k1["K"] and
         clear[:16].hex() == k1["server_nonce"] and clear[16:] == bytes(16) and cont[4:] == exp)
    print("p09 DHCAST128 keylog: %s" % ("OK" if r else "MISMATCH"))
    return ok and r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("server", nargs="?", help="HOST:PORT")
    ap.add_argument("--status", action="store_true", help="print FPGetSrvrInfo and exit")
    ap.add_argument("--uam", default="guest", help="guest, clrtxt, dhx, dhx2 or a UAM string")
    ap.add_argument("--user", default="")
    ap.add_argument("--password", default="")
    ap.add_argument("--afpversion", default="AFP3.4")
    ap.add_argument("--ext", action="store_true", help="log in with FPLoginExt")
    ap.add_argument("--volume")
    ap.add_argument("--ls", action="append", default=[])
    ap.add_argument("--cat", action="append", default=[])
    ap.add_argument("--keylog-selftest", metavar="DIR")
    a = ap.parse_args()
    if a.keylog_selftest:
        return 0 if keylog_selftest(a.keylog_selftest) else 1
    if not a.server:
        ap.error("HOST:PORT needed")
    host, port = a.server.rsplit(":", 1)
    port = int(port)
    if a.status:
        d = parse_status(get_status(host, port))
        for k, v in d.items():
            print("%-13s %s" % (k, v.hex() if isinstance(v, bytes) else
                                ("0x%04x" % v if k == "flags" else v)))
        return 0
    s = Session(host, port)
    try:
        s.login(a.uam, a.user, a.password, a.afpversion, a.ext)
    except AFPError as e:
        print("login refused: %s" % e)
        return 1
    print("volumes: %s" % ", ".join(n for _, n in s.volumes()))
    if a.volume:
        s.open_volume(a.volume)
        for p in a.ls:
            for e in s.enumerate(p):
                print("%s %10s %s" % ("d" if e["dir"] else "-", e.get("size", e.get("offspring")),
                                      e.get("name")))
        for p in a.cat:
            ref, size = s.open_fork(p)
            code, data = s.read(ref, 0, size)
            sys.stdout.write(data.decode(errors="replace"))
            s.close_fork(ref)
    s.logout()
    return 0


if __name__ == "__main__":
    sys.exit(main())
