"""Value builders for the held-out corpus: checksummed test values computed
from first principles (Luhn, ISO 7064, Base58Check, Bech32/Bech32m,
EIP-55 Keccak, GitHub CRC32). No fake-data library."""
import hashlib, random, zlib, base64, json

R = random.Random(20261125)

# ---------- Luhn ----------
def luhn_ok(d):
    s = 0
    for i, c in enumerate(reversed(d)):
        v = int(c)
        if i % 2 == 1:
            v *= 2
            if v > 9: v -= 9
        s += v
    return s % 10 == 0

def luhn_complete(prefix, n):
    body = prefix + ''.join(R.choice('0123456789') for _ in range(n - len(prefix) - 1))
    for c in '0123456789':
        if luhn_ok(body + c):
            return body + c

def luhn_fail(prefix, n):
    while True:
        d = prefix + ''.join(R.choice('0123456789') for _ in range(n - len(prefix)))
        if not luhn_ok(d):
            return d

# ---------- IBAN ----------
def iban_ok(s):
    s = s.replace(' ', '').upper()
    r = s[4:] + s[:4]
    n = ''.join(str(int(c, 36)) for c in r)
    return int(n) % 97 == 1

# ---------- base58check ----------
B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def b58check(version, payload):
    raw = bytes([version]) + payload
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, 'big')
    out = ''
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(raw) - len(raw.lstrip(b'\0'))
    return '1' * pad + out

# ---------- bech32 (BIP-173/350 reference) ----------
CH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
def _polymod(values):
    GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= GEN[i] if ((b >> i) & 1) else 0
    return chk
def _hrp_expand(h): return [ord(x) >> 5 for x in h] + [0] + [ord(x) & 31 for x in h]
def _convertbits(data, frm, to):
    acc = bits = 0; ret = []; maxv = (1 << to) - 1
    for v in data:
        acc = (acc << frm) | v; bits += frm
        while bits >= to:
            bits -= to; ret.append((acc >> bits) & maxv)
    if bits: ret.append((acc << (to - bits)) & maxv)
    return ret
def segwit(hrp, ver, prog):
    const = 1 if ver == 0 else 0x2bc830a3
    data = [ver] + _convertbits(prog, 8, 5)
    pm = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + '1' + ''.join(CH[d] for d in data + chk)

# ---------- keccak-256 (for EIP-55) ----------
def keccak256(data):
    RC = [0x0000000000000001,0x0000000000008082,0x800000000000808A,0x8000000080008000,0x000000000000808B,0x0000000080000001,
          0x8000000080008081,0x8000000000008009,0x000000000000008A,0x0000000000000088,0x0000000080008009,0x000000008000000A,
          0x000000008000808B,0x800000000000008B,0x8000000000008089,0x8000000000008003,0x8000000000008002,0x8000000000000080,
          0x000000000000800A,0x800000008000000A,0x8000000080008081,0x8000000000008080,0x0000000080000001,0x8000000080008008]
    ROT = [[0,36,3,41,18],[1,44,10,45,2],[62,6,43,15,61],[28,55,25,21,56],[27,20,39,8,14]]
    M = (1 << 64) - 1
    rol = lambda x, n: ((x << n) | (x >> (64 - n))) & M if n else x
    rate = 136
    msg = bytearray(data) + b'\x01'
    while len(msg) % rate: msg += b'\x00'
    msg[-1] |= 0x80
    A = [[0]*5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        blk = msg[off:off+rate]
        for i in range(rate // 8):
            x, y = i % 5, i // 5
            A[x][y] ^= int.from_bytes(blk[8*i:8*i+8], 'little')
        for rnd in range(24):
            C = [A[x][0]^A[x][1]^A[x][2]^A[x][3]^A[x][4] for x in range(5)]
            D = [C[(x-1)%5] ^ rol(C[(x+1)%5], 1) for x in range(5)]
            A = [[A[x][y]^D[x] for y in range(5)] for x in range(5)]
            B = [[0]*5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    B[y][(2*x+3*y)%5] = rol(A[x][y], ROT[x][y])
            A = [[B[x][y] ^ ((~B[(x+1)%5][y]) & B[(x+2)%5][y]) for y in range(5)] for x in range(5)]
            A[0][0] ^= RC[rnd]
    out = b''
    for i in range(4):
        x, y = i % 5, i // 5
        out += A[x][y].to_bytes(8, 'little')
    return out

def eip55(hexaddr):
    h = hexaddr.lower()
    k = keccak256(h.encode()).hex()
    return '0x' + ''.join(c.upper() if c.isalpha() and int(k[i], 16) >= 8 else c for i, c in enumerate(h))

assert eip55('5aaeb6053f3e94c9b9a09f33669435e7ef1beaed') == '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'

def rhex(n): return ''.join(R.choice('0123456789abcdef') for _ in range(n))
def rbytes(n): return bytes(R.randrange(256) for _ in range(n))

def btc_p2pkh(): return b58check(0, rbytes(20))
def btc_p2sh(): return b58check(5, rbytes(20))
def ltc_legacy(): return b58check(0x30, rbytes(20))
def ltc_p2sh(): return b58check(0x32, rbytes(20))
def bc1q(): return segwit('bc', 0, list(rbytes(20)))
def bc1q32(): return segwit('bc', 0, list(rbytes(32)))
def bc1p(): return segwit('bc', 1, list(rbytes(32)))
def ltc1(): return segwit('ltc', 0, list(rbytes(20)))
def eth_checksum(): return eip55(rhex(40))
def eth_lower(): return '0x' + rhex(40)

# ---------- secrets ----------
A62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
AURL = A62 + '-_'
def rs(alpha, n): return ''.join(R.choice(alpha) for _ in range(n))
def b62(n):
    out = ''
    while n:
        n, r = divmod(n, 62)
        out = A62[r] + out
    return out.rjust(6, '0')
def ghp(prefix='ghp_'):
    body = rs(A62, 30)
    return prefix + body + b62(zlib.crc32(body.encode()))
def github_pat(): return 'github_pat_' + rs(A62, 22) + '_' + rs(A62, 59)
def aws_id(p='AKIA'): return p + rs('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)
def aws_secret(): return rs(A62 + '+/', 40)
def slack(p='xoxb-'): return p + str(R.randrange(10**10, 10**12)) + '-' + str(R.randrange(10**10, 10**12)) + '-' + rs(A62, 24)
def stripe(p='sk_live_'): return p + rs(A62, 24)
def stripe_long(p='sk_live_'): return p + rs(A62, 99)
def openai_proj():
    return 'sk-proj-' + rs(AURL, 74) + 'T3BlbkFJ' + rs(AURL, 74)
def anthropic(): return 'sk-ant-api03-' + rs(AURL, 93) + 'AA'
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()
def jwt(payload):
    h = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(',', ':')).encode())
    p = b64u(json.dumps(payload, separators=(',', ':')).encode())
    return h + '.' + p + '.' + b64u(rbytes(32))
def pem_body(lines=3):
    return [base64.b64encode(rbytes(48)).decode() for _ in range(lines)]
def password(n=14): return rs(A62 + '!@#%^*', n)
def gcp_key(): return 'AIza' + rs(AURL, 35)
def glpat(): return 'glpat-' + rs(A62 + '-_', 20)
def hf(): return 'hf_' + rs(A62, 34)
def npm(): 
    body = rs(A62, 30)
    return 'npm_' + body + b62(zlib.crc32(body.encode()))
