"""Image folders as people have them: every PIL mode decodes to the right 8-bit numbers or is refused by name,
channels are unified by one rule that `study data` reports, photos are turned upright by their EXIF orientation,
and hidden or system entries are never classes."""

import struct
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_images, write_image_folder
from PIL import Image

from study.cli.main import cli
from study.errors import DataError
from study.plan.data import UPRIGHT, decode_image, load_dataset

RNG = np.random.default_rng(7)
GREY = RNG.integers(0, 256, (6, 5), dtype=np.uint8)
RGB = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)


def _png16_rgb(path, pixels: np.ndarray) -> None:
    """A 48-bit RGB PNG written by hand (PIL cannot write one): IHDR bit depth 16, colour type 2."""
    height, width, _ = pixels.shape
    rows = b"".join(b"\0" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _save(path, image, **options):
    image.save(path, **options)
    return path


def _palette_with_transparency(path):
    image = Image.fromarray(RGB).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return _save(path, image, transparency=0), np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    "mode",
    ["1", "L", "I;16", "I;16B", "P", "P+transparency", "LA", "RGB", "RGBA", "CMYK", "RGB;16"],
)
def test_every_mode_that_occurs_maps_to_8_bit_values_by_its_true_range(tmp_path, mode):
    if mode == "1":
        image = Image.fromarray(GREY).convert("1", dither=Image.Dither.NONE)
        path, expected = _save(tmp_path / "a.png", image), (GREY >= 128) * 255
    elif mode == "L":
        path, expected = _save(tmp_path / "a.png", Image.fromarray(GREY)), GREY
    elif mode == "I;16":
        path, expected = (
            _save(tmp_path / "a.png", Image.fromarray(GREY.astype(np.uint16) * 257)),
            GREY,
        )
    elif mode == "I;16B":
        image = Image.frombytes("I;16B", (5, 6), (GREY.astype(">u2") * 257).tobytes())
        path, expected = _save(tmp_path / "a.tif", image), GREY
    elif mode == "P":
        image = Image.fromarray(RGB).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        path, expected = _save(tmp_path / "a.gif", image), np.asarray(image.convert("RGB"))
    elif mode == "P+transparency":
        path, expected = _palette_with_transparency(tmp_path / "a.png")
    elif mode == "LA":
        path, expected = (
            _save(tmp_path / "a.png", Image.fromarray(np.dstack([GREY, GREY[::-1]]), "LA")),
            GREY,
        )
    elif mode == "RGB":
        path, expected = _save(tmp_path / "a.png", Image.fromarray(RGB)), RGB
    elif mode == "RGBA":
        path, expected = (
            _save(tmp_path / "a.png", Image.fromarray(np.dstack([RGB, GREY]), "RGBA")),
            RGB,
        )
    elif mode == "CMYK":
        image = Image.fromarray(RGB).convert("CMYK")
        path, expected = _save(tmp_path / "a.tif", image), np.asarray(image.convert("RGB"))
    else:
        _png16_rgb(tmp_path / "a.png", RGB.astype(np.uint16) * 257)
        path, expected = tmp_path / "a.png", RGB
    array, _ = decode_image(path)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, np.asarray(expected, dtype=np.uint8).reshape(array.shape))
    assert array.shape[2] == (1 if mode in ("1", "L", "I;16", "I;16B", "LA") else 3)


@pytest.mark.parametrize(
    "mode,make",
    [
        ("F", lambda: Image.fromarray(GREY.astype(np.float32))),
        ("I", lambda: Image.fromarray(GREY.astype(np.int32) * 70000)),
    ],
)
def test_modes_without_a_known_8_bit_range_are_refused_by_name(tmp_path, mode, make):
    path = _save(tmp_path / "a.tif", make())
    with pytest.raises(
        DataError, match=rf"a.tif: unsupported image mode {mode} \(TIFF\); accepted modes: 1, L, P"
    ):
        decode_image(path)


def test_16_bit_grey_folder_gives_the_arrays_and_fingerprint_of_its_8_bit_copy(tmp_path):
    images, labels = tiny_images(18, (28, 28), 3)
    for depth, scale in (("8", 1), ("16", 257)):
        for split, part in (("train", slice(0, 12)), ("test", slice(12, 18))):
            for i, (pixels, label) in enumerate(zip(images[part], labels[part])):
                folder = tmp_path / depth / split / f"digit{label % 3}"
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels.astype(np.uint16 if scale > 1 else np.uint8) * scale).save(
                    folder / f"{i}.png"
                )
    eight, sixteen = load_dataset(str(tmp_path / "8")), load_dataset(str(tmp_path / "16"))
    assert Image.open(next((tmp_path / "16" / "train").rglob("*.png"))).mode == "I;16"
    np.testing.assert_array_equal(sixteen.x_train, eight.x_train)
    np.testing.assert_array_equal(sixteen.x_test, eight.x_test)
    assert sixteen.fingerprint == eight.fingerprint and sixteen.x_train.mean() == pytest.approx(
        eight.x_train.mean()
    )
    assert (
        sixteen.describe()["conversions"] == {"16-bit scaled to 8-bit": 18}
        and "conversions" not in eight.describe()
    )


def test_hidden_and_system_entries_are_never_classes_or_images(tmp_path):
    folder = write_image_folder(tmp_path / "pets", classes=("cat", "dog", "ship"), train=2, test=2)
    for split in ("train", "test"):
        checkpoint = folder / split / ".ipynb_checkpoints"
        checkpoint.mkdir()
        Image.fromarray(RGB).save(checkpoint / "0000-checkpoint.png")
        (folder / split / "__MACOSX" / "cat").mkdir(parents=True)
        Image.fromarray(RGB).save(folder / split / "__MACOSX" / "cat" / "._0000.png")
        Image.fromarray(RGB).save(
            folder / split / "cat" / "._0000.png"
        )  # an AppleDouble file beside the image
        (folder / split / "dog" / "Thumbs.db").write_bytes(b"\0" * 64)
        (folder / split / "dog" / ".DS_Store").write_bytes(b"\0" * 64)
    data = load_dataset(str(folder))
    assert data.classes == ("cat", "dog", "ship")
    assert np.bincount(data.y_train).tolist() == [2, 2, 2] and np.bincount(
        data.y_test
    ).tolist() == [2, 2, 2]


def test_class_folders_must_agree_between_train_and_test(tmp_path):
    folder = write_image_folder(tmp_path / "pets")
    (folder / "test" / "frog").rename(folder / "test" / "frogs")
    with pytest.raises(
        DataError,
        match=r"test: class folders .* differ from train's .* \(missing \['frog'\], extra "
        r"\['frogs'\]\); train/ and test/ need the same class folders",
    ):
        load_dataset(str(folder))


def test_an_empty_class_folder_is_named(tmp_path):
    folder = write_image_folder(tmp_path / "pets")
    (folder / "train" / "bird").mkdir()
    (folder / "test" / "bird").mkdir()
    with pytest.raises(DataError, match=r"train/bird: no images .* in this class folder"):
        load_dataset(str(folder))


def test_grey_jpegs_in_an_rgb_folder_become_rgb_and_study_data_says_how_many(tmp_path):
    folder = write_image_folder(tmp_path / "cifar", classes=("cat", "dog"), suffix=".jpg")
    for split in ("train", "test"):
        Image.fromarray(GREY[:1].repeat(32, 0)[:, :1].repeat(32, 1)).save(
            folder / split / "dog" / "0000.jpg"
        )
    colour_only = load_dataset(str(folder), train_size=None)
    grey = np.asarray(Image.open(folder / "train" / "dog" / "0000.jpg"))
    index = 4  # train/dog/0000.jpg: after cat's four images
    np.testing.assert_array_equal(
        colour_only.x_train[index], np.repeat(grey[..., None], 3, axis=2) / np.float32(255)
    )
    assert colour_only.x_train.shape == (8, 32, 32, 3)
    assert colour_only.describe()["conversions"] == {"grey to RGB": 2}
    result = CliRunner().invoke(cli, ["data", str(folder)])
    assert result.exit_code == 0, result.output
    assert "  converted: grey to RGB (2 images)" in result.output.splitlines()


def test_only_grey_images_in_the_test_split_are_made_rgb_to_match_the_training_split(tmp_path):
    folder = write_image_folder(tmp_path / "pets", classes=("cat", "dog"), train=2, test=1)
    for name in ("cat", "dog"):
        Image.fromarray(GREY[:1].repeat(32, 0)[:, :1].repeat(32, 1)).save(
            folder / "test" / name / "0000.png"
        )
    data = load_dataset(str(folder))
    assert data.x_test.shape == (2, 32, 32, 3) and data.conversions == (("grey to RGB", 2),)


def test_an_image_of_another_size_names_the_sizes_not_the_channels(tmp_path):
    folder = write_image_folder(tmp_path / "pets")
    Image.fromarray(RGB).save(folder / "train" / "dog" / "0001.png")
    with pytest.raises(
        DataError, match=r"dog/0001.png: image is 5x6 pixels, the others are 32x32; resize them"
    ):
        load_dataset(str(folder))


# How a camera stores an upright image for each EXIF orientation (tag 0x0112): viewers undo it.
STORED = {
    1: lambda up: up,
    2: np.fliplr,
    3: lambda up: np.rot90(up, 2),
    4: np.flipud,
    5: lambda up: up.transpose(1, 0, 2),
    6: lambda up: np.rot90(up, 1),  # "rotate 90 clockwise to view": a phone held upright
    7: lambda up: np.rot90(up, 2).transpose(1, 0, 2),
    8: lambda up: np.rot90(up, -1),
}


def _save_with_orientation(path, upright: np.ndarray, orientation: int, **options):
    """``upright`` stored as a camera with ``orientation`` stores it, with that EXIF tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = np.ascontiguousarray(STORED[orientation](upright))
    return _save(path, Image.fromarray(stored), exif=exif, **options)


@pytest.mark.parametrize("orientation", sorted(STORED))
def test_a_photo_is_decoded_upright_by_its_exif_orientation_and_the_turn_is_noted(
    tmp_path, orientation
):
    path = _save_with_orientation(tmp_path / "a.png", RGB, orientation)
    array, notes = decode_image(path)
    np.testing.assert_array_equal(array, RGB)
    assert notes == (() if orientation == 1 else (UPRIGHT,))


def test_an_rgba_photo_turned_upright_notes_both_conversions(tmp_path):
    path = _save_with_orientation(tmp_path / "a.png", np.dstack([RGB, GREY]), 6)
    array, notes = decode_image(path)
    np.testing.assert_array_equal(array, RGB)
    assert notes == (UPRIGHT, "alpha dropped")


def test_portrait_jpegs_stored_sideways_load_at_the_size_viewers_show_and_study_data_says_so(
    tmp_path,
):
    # 24 wide, 32 high, as every other image; a gradient, so a turn the wrong way cannot pass
    rows, cols = np.mgrid[0:32, 0:24]
    upright = np.dstack([rows * 7, cols * 10, np.full_like(rows, 128)]).astype(np.uint8)
    folder = write_image_folder(
        tmp_path / "phone", classes=("cat", "dog"), suffix=".jpg", size=(32, 24)
    )
    _save_with_orientation(folder / "train" / "dog" / "0001.jpg", upright, 6, quality=95)
    _save_with_orientation(folder / "test" / "cat" / "0000.jpg", upright, 8, quality=95)
    assert Image.open(folder / "train" / "dog" / "0001.jpg").size == (32, 24)  # stored sideways
    data = load_dataset(str(folder))
    assert data.x_train.shape == (8, 32, 24, 3) and data.x_test.shape == (4, 32, 24, 3)
    for decoded in (data.x_train[5], data.x_test[0]):  # train: after cat's four images
        assert np.abs(decoded * 255 - upright).max() <= 8  # JPEG's loss, not a turn or a mirror
    assert data.describe()["conversions"] == {UPRIGHT: 2}
    result = CliRunner().invoke(cli, ["data", str(folder)])
    assert result.exit_code == 0, result.output
    assert (
        "  converted: rotated upright by EXIF orientation (2 images)" in result.output.splitlines()
    )
