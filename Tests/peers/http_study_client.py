"""Uploads one study to the daemon's HTTP API as a Python user would (requests, a DICOMweb STOW-RS multipart/related
body) and reads the answer with safetensors (numpy, and torch when importable). Prints one JSON object that the
Swift test asserts on: the status, the answer's headers, each tensor's dtype, shape and SHA-256 of its C-order
bytes, and the metadata. Usage: http_study_client.py URL TOKEN|- FILE...

Exits 0 whatever the daemon answers (the JSON says it); a failure to connect is an exception (exit 1)."""
import hashlib
import json
import sys
import uuid

import requests
from safetensors.numpy import load

url, token, files = sys.argv[1], sys.argv[2], sys.argv[3:]
boundary = uuid.uuid4().hex.encode()
parts = []
for name in files:
    with open(name, "rb") as handle:
        parts.append(b"--" + boundary + b"\r\nContent-Type: application/dicom\r\n\r\n" + handle.read() + b"\r\n")
body = b"".join(parts) + b"--" + boundary + b"--\r\n"
headers = {"Content-Type": 'multipart/related; type="application/dicom"; boundary=' + boundary.decode()}
if token != "-":
    headers["Authorization"] = "Bearer " + token
response = requests.post(url, data=body, headers=headers, timeout=120)
result = {
    "status": response.status_code,
    "content_type": response.headers.get("Content-Type"),
    "volumes": response.headers.get("Hounsfield-Volumes"),
}
if response.status_code == 200:
    tensors = load(response.content)
    result["tensors"] = {
        key: {
            "dtype": str(array.dtype),
            "shape": list(array.shape),
            "c_contiguous": bool(array.flags.c_contiguous),
            "sha256": hashlib.sha256(array.tobytes(order="C")).hexdigest(),
        }
        for key, array in tensors.items()
    }
    length = int.from_bytes(response.content[:8], "little")
    result["metadata"] = json.loads(response.content[8:8 + length])["__metadata__"]
    try:
        from safetensors.torch import load as load_torch
    except ImportError:
        pass
    else:
        result["torch"] = {key: list(tensor.shape) for key, tensor in load_torch(response.content).items()}
else:
    result["error"] = response.json()
print(json.dumps(result))
