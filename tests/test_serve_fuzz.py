"""Fuzz `fer_serve`'s API against its own OpenAPI schema with schemathesis: whatever a client sends, no 5xx, and every
answer matches the schema. The ASGI app runs in-process (no network), with a tiny untrained checkpoint (labels mean
nothing). Bounded: 100 examples per operation, derandomized, a few seconds on 2 cores."""
import base64, io
import pytest

schemathesis = pytest.importorskip('schemathesis')
from hypothesis import settings, HealthCheck
from PIL import Image
from schemathesis.checks import positive_data_acceptance
from fastapi.testclient import TestClient
from fer_nbdev.detect import sample_photo
from fer_nbdev.serve import create_app


@pytest.fixture(scope='module')
def app(tiny_checkpoint):
    return create_app(tiny_checkpoint, max_bytes=200_000, max_pixels=1_000_000, max_faces=4)


@pytest.fixture(scope='module')
def api_schema(app): return schemathesis.openapi.from_asgi('/openapi.json', app)


schema = schemathesis.pytest.from_fixture('api_schema')


@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_api_fuzz(case):
    # Every default check (no 5xx, documented status codes and content types, responses matching their schemas, invalid
    # data refused), except `positive_data_acceptance`: a schema cannot say "bytes that decode to a photo", so
    # schema-valid random uploads are rightly refused with a documented 4xx.
    r = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert r.status_code < 500, r.text  # what `not_a_server_error` (one of the defaults) checks, stated


def test_real_answers_match_schema(app, api_schema):
    "The fuzzer's uploads are never photos: check the answers for a real one (a face found) against the schema too."
    img, _ = sample_photo('astronaut')
    b = io.BytesIO(); Image.fromarray(img).save(b, 'JPEG', quality=85); jpg = b.getvalue()
    op, c = api_schema['/v1/predict']['POST'], TestClient(app)
    for kw in (dict(files={'file': ('a.jpg', jpg, 'image/jpeg')}), dict(json={'image': base64.b64encode(jpg).decode()})):
        r = c.post('/v1/predict', **kw)
        assert r.status_code == 200 and r.json()['n_faces'] == 1, r.text
        r.request.read(); op.validate_response(r)   # (read: the multipart request body is a stream)
    for kw in (dict(files={'file': ('a.txt', b'hi', 'text/plain')}), dict(json={'image': '@@'}),
               dict(files={'file': ('a.jpg', b'\0' * 300_000, 'image/jpeg')})):
        r = c.post('/v1/predict', **kw)
        assert r.status_code in (413, 415, 422), r.text
        r.request.read(); op.validate_response(r)
    api_schema['/v1/model']['GET'].validate_response(c.get('/v1/model'))
