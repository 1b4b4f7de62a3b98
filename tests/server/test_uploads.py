"""What a hostile peer can make the server hold while uploading images is bounded (issue 13),
and what ``clean`` makes of each kind of input."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from console.protocol.codec import ProtocolError
from console.protocol.limits import UPLOAD_IDLE, UPLOADS_PER_CONNECTION
from console.protocol.messages import MAX_IMAGE_BYTES, ErrorCode, ImageBegin, ImageChunk
from console.server.images import ImageRefused, clean
from console.server.uploads import UploadBudget, Uploads
from console.sim.pictures import picture


def begin(client_id: str, size: int) -> ImageBegin:
    return ImageBegin(client_id=client_id, size=size, sha256="0" * 64)


def test_reservations_are_bounded_per_connection_and_in_all_and_given_back() -> None:
    budget = UploadBudget(total=3 * MAX_IMAGE_BYTES)
    one, two = Uploads(budget), Uploads(budget)
    for n in range(UPLOADS_PER_CONNECTION):
        one.begin(begin(f"c{n}", MAX_IMAGE_BYTES), now=0.0)
    with pytest.raises(ProtocolError) as refused:
        one.begin(begin("more", 10), now=1.0)  # a third on one connection
    assert refused.value.code is ErrorCode.RATE_LIMITED
    two.begin(begin("x", MAX_IMAGE_BYTES), now=1.0)
    with pytest.raises(ProtocolError) as full:
        Uploads(budget).begin(begin("y", 10), now=2.0)  # the server's budget is spent
    assert full.value.code is ErrorCode.RATE_LIMITED and budget.reserved == 3 * MAX_IMAGE_BYTES
    three = Uploads(budget)
    three.begin(begin("z", 10), now=2.0 + UPLOAD_IDLE + 1)  # the idle ones made room
    assert budget.reserved == 10
    for uploads in (one, two, three):
        uploads.close()
    assert budget.reserved == 0


def test_bytes_beyond_the_declared_size_drop_the_upload() -> None:
    budget = UploadBudget()
    uploads = Uploads(budget)
    uploads.begin(begin("c", 5), now=0.0)
    uploads.chunk(ImageChunk(client_id="c", offset=0, data=b"abc"), now=0.0)
    with pytest.raises(ProtocolError) as over:
        uploads.chunk(ImageChunk(client_id="c", offset=3, data=b"def"), now=0.0)
    assert over.value.code is ErrorCode.OVERSIZED and budget.reserved == 0 and uploads.held == 0
    with pytest.raises(ProtocolError) as gone:
        uploads.end("c")
    assert gone.value.code is ErrorCode.NOT_FOUND


def test_the_sent_bytes_must_be_the_declared_ones() -> None:
    uploads = Uploads(UploadBudget())
    data = b"hello"
    uploads.begin(ImageBegin(client_id="c", size=5, sha256=hashlib.sha256(b"HELLO").hexdigest()), now=0.0)
    uploads.chunk(ImageChunk(client_id="c", offset=0, data=data), now=0.0)
    with pytest.raises(ProtocolError) as bad:
        uploads.end("c")
    assert bad.value.code is ErrorCode.INVALID and bad.value.field == "sha256"


def _save(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def test_clean_keeps_photos_as_jpeg_and_the_rest_as_png_deterministically() -> None:
    photo = picture("seed-1")
    cleaned = clean(photo)
    assert cleaned.ref.mime == "image/jpeg" and clean(photo).data == cleaned.data  # same bytes: stored once
    rgba = Image.new("RGBA", (30, 20), (1, 2, 3, 100))
    assert clean(_save(rgba, "WEBP")).ref.mime == "image/png"  # transparency kept
    assert clean(_save(Image.new("RGB", (30, 20)), "WEBP")).ref.mime == "image/jpeg"
    frames = [Image.new("P", (16, 16), n) for n in range(3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    first = clean(gif.getvalue())
    assert first.ref.mime == "image/png" and (first.ref.width, first.ref.height) == (16, 16)


def test_clean_applies_the_exif_orientation_then_drops_the_exif() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    cleaned = clean(_save(Image.new("RGB", (40, 20), (9, 9, 9)), "JPEG", exif=exif))
    assert (cleaned.ref.width, cleaned.ref.height) == (20, 40)
    assert not Image.open(io.BytesIO(cleaned.data)).getexif()


@pytest.mark.parametrize("data", [
    b"",
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"GIF89a" + b"\x00" * 5,
    _save(Image.new("RGB", (8, 8)), "BMP"),  # a real image, of a type we do not take
    _save(Image.new("RGB", (8, 8)), "TIFF"),
])
def test_clean_refuses_what_is_not_an_image_we_take(data: bytes) -> None:
    with pytest.raises(ImageRefused):
        clean(data)


def test_clean_refuses_too_many_pixels_before_decoding() -> None:
    small_file_many_pixels = _save(Image.new("L", (3000, 3000)), "PNG")
    assert len(small_file_many_pixels) < 100_000
    with pytest.raises(ImageRefused, match="pixels"):
        clean(small_file_many_pixels, max_pixels=1_000_000)
