"""Signed pipeline folders: save(..., sign_key=) writes model.spec.sig, an
Ed25519 signature of the spec (which holds every file's checksum), and
load(..., trusted_keys=) refuses a folder not signed by one of those keys.
The keys are cryptography's objects, PEM text or 32 raw bytes
(`pip install 'matx_nb[sign]'`)."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from .graph import PipelineError

SIG_FILE = "model.spec.sig"


_SIG_DOMAIN = b"matx_nb.pipeline.signature/1\n"


def signed_message(spec: dict) -> bytes:
    """What a folder's signature signs: a fixed tag, then the spec as canonical
    JSON (keys sorted, ASCII only, json.dumps's default separators; the C++
    runtime's mx::json::dumps(spec, true, -1, true) writes the same bytes). The
    spec holds the SHA-256 of every file of the folder, so the signature covers
    them all."""
    return _SIG_DOMAIN + json.dumps(spec, sort_keys=True, ensure_ascii=True).encode("ascii")


def _crypto():
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise PipelineError("signing and checking signatures needs the 'cryptography' package: "
                            "pip install 'matx_nb[sign]'") from None
    return serialization, ed25519


def _key_bytes(key):
    if isinstance(key, os.PathLike):
        return Path(key).read_bytes()
    if isinstance(key, str):
        return key.encode() if key.lstrip().startswith("-----BEGIN") else Path(key).read_bytes()
    return key


def _private_key(key):
    serialization, ed25519 = _crypto()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    data = _key_bytes(key)
    if isinstance(data, (bytes, bytearray)):
        if len(data) == 32:
            return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(data))
        k = serialization.load_pem_private_key(bytes(data), password=None)
        if isinstance(k, ed25519.Ed25519PrivateKey):
            return k
    raise TypeError("sign_key must be an Ed25519 private key (cryptography's Ed25519PrivateKey, its PEM or "
                    "its 32 raw bytes)")


def _public_key(key):
    serialization, ed25519 = _crypto()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.public_key()
    data = _key_bytes(key)
    if isinstance(data, (bytes, bytearray)):
        if len(data) == 32:
            return ed25519.Ed25519PublicKey.from_public_bytes(bytes(data))
        k = serialization.load_pem_public_key(bytes(data))
        if isinstance(k, ed25519.Ed25519PublicKey):
            return k
    raise TypeError(f"a trusted key must be an Ed25519 public key (cryptography's Ed25519PublicKey, its PEM "
                    f"or its 32 raw bytes), got {type(key).__name__}")


def sign(directory, spec: dict, sign_key) -> Path:
    """Writes DIR/model.spec.sig: the Ed25519 signature of signed_message(spec)."""
    serialization, _ = _crypto()
    key = _private_key(sign_key)
    raw_pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sig = {"format": "matx_nb.signature", "version": 1, "algorithm": "ed25519",
           "public_key": base64.b64encode(raw_pub).decode("ascii"),
           "signature": base64.b64encode(key.sign(signed_message(spec))).decode("ascii")}
    out = Path(directory) / SIG_FILE
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(sig, indent=1) + "\n")
    os.replace(tmp, out)
    return out


def verify_signature(directory, spec: dict, trusted_keys) -> None:
    """Refuses the folder unless model.spec.sig holds a signature of spec by one
    of trusted_keys."""
    keys = [_public_key(k) for k in trusted_keys]
    d = Path(directory)
    try:
        fd = os.open(d / SIG_FILE, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            raw = f.read(1 << 16)
    except OSError:
        raise PipelineError(f"{d} is not signed ({SIG_FILE} is missing) and trusted_keys asks for a signature "
                            "by a trusted key") from None
    try:
        sig = json.loads(raw.decode("utf-8"))
        assert isinstance(sig, dict) and sig.get("format") == "matx_nb.signature"
        assert sig.get("algorithm") == "ed25519" and isinstance(sig.get("signature"), str)
        signature = base64.b64decode(sig["signature"], validate=True)
    except Exception:
        raise PipelineError(f"{d}: {SIG_FILE} is not a matx_nb Ed25519 signature") from None
    message = signed_message(spec)
    from cryptography.exceptions import InvalidSignature
    for k in keys:
        try:
            k.verify(signature, message)
            return
        except InvalidSignature:
            continue
    raise PipelineError(f"{d} is not signed by a trusted key: its signature does not verify with any of the "
                        f"{len(keys)} trusted key{'s' if len(keys) != 1 else ''} (the folder was changed after "
                        "it was signed, or someone else signed it)")


