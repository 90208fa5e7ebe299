"""Reads a QR code from a PNG image (a screenshot of a page) with zbarimg
(Debian package zbar-tools), as a phone's authenticator app reads it from
the screen."""

import subprocess

ZBARIMG = "/usr/bin/zbarimg"


class NoQrCode(RuntimeError):
    """The image holds no QR code zbarimg can read."""


def decode(png_path, binary=ZBARIMG):
    """The text of the one QR code in the PNG image at `png_path` (the
    otpauth:// URI of an enrollment page). Raises NoQrCode when there is
    none, RuntimeError when there are several or zbarimg fails."""
    done = subprocess.run(
        # QR codes only; the raw text, in the bytes the code holds.
        [binary, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", png_path],
        capture_output=True)
    if done.returncode == 4:  # zbarimg: no symbol found
        raise NoQrCode(f"no QR code in {png_path}")
    if done.returncode != 0:
        raise RuntimeError(f"zbarimg failed on {png_path} ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")
    texts = [t for t in done.stdout.decode().split("\n") if t]
    if len(texts) != 1:
        raise RuntimeError(f"{len(texts)} QR codes in {png_path}, expected one")
    return texts[0]
