#!/usr/bin/env python3
"""Sign a tiny model directory the way the model-signing reference tool
(sigstore/model-transparency, `model_signing sign key`) does, using only
the `cryptography` package, so Go tests can verify a bundle not made by Go.

Writes signed/model/{config.json,weights.bin,sub/tok.txt,model.sig} and
signed/key.pub. The private key is ephemeral and not written.

With --check DIR PUB it instead verifies a bundle written by
`warden model sign`, following the reference verifier's steps.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def manifest(model_dir, ignore=("model.sig",)):
    out = []
    for root, _, files in os.walk(model_dir):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), model_dir).replace(os.sep, "/")
            if rel in ignore:
                continue
            with open(os.path.join(root, f), "rb") as fh:
                out.append((rel, hashlib.sha256(fh.read()).hexdigest()))
    return sorted(out)


def sign():
    model = os.path.join(HERE, "signed", "model")
    os.makedirs(os.path.join(model, "sub"), exist_ok=True)
    for name, body in {"config.json": b'{"arch": "tiny"}', "weights.bin": bytes(range(64)),
                       "sub/tok.txt": b"hello\nworld\n"}.items():
        with open(os.path.join(model, name), "wb") as f:
            f.write(body)
    key = ec.generate_private_key(ec.SECP256R1())
    pub_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(os.path.join(HERE, "signed", "key.pub"), "wb") as f:
        f.write(pub_pem)
    items = manifest(model)
    root = hashlib.sha256(b"".join(bytes.fromhex(d) for _, d in items)).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "model", "digest": {"sha256": root}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False,
                              "ignore_paths": ["model.sig", ".git", ".gitattributes", ".github", ".gitignore"]},
            "resources": [{"name": n, "algorithm": "sha256", "digest": d} for n, d in items],
        },
    }
    # protobuf's MessageToJson indents by two spaces.
    payload = json.dumps(statement, indent=2).encode()
    sig = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": hashlib.sha256(pub_pem).hexdigest()}},
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE,
                         "signatures": [{"sig": base64.b64encode(sig).decode()}]},
    }
    with open(os.path.join(model, "model.sig"), "w") as f:
        json.dump(bundle, f, indent=2)


def check(model_dir, pub_path):
    with open(pub_path, "rb") as f:
        pub_pem = f.read()
    pub = serialization.load_pem_public_key(pub_pem)
    with open(os.path.join(model_dir, "model.sig")) as f:
        bundle = json.load(f)
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"]["publicKey"]["hint"] == hashlib.sha256(pub_pem).hexdigest()
    env = bundle["dsseEnvelope"]
    payload = base64.b64decode(env["payload"])
    pub.verify(base64.b64decode(env["signatures"][0]["sig"]), pae(env["payloadType"], payload),
               ec.ECDSA(hashes.SHA256()))
    st = json.loads(payload)
    assert st["predicateType"] == "https://model_signing/signature/v1.0"
    res = st["predicate"]["resources"]
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in res)).hexdigest()
    assert root == st["subject"][0]["digest"]["sha256"]
    assert [(r["name"], r["digest"]) for r in res] == manifest(model_dir)
    print("verified", len(res), "files")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    else:
        sign()
