"""Electronic: e-mail addresses (with paths and symbols), URLs with any scheme, domains, handles."""

import pytest

from frontend import normalize

CASES = [
    ("asdf123@abc.com", "asdf one two three at abc dot com"),
    ("a1b2@abc.com", "a one b two at abc dot com"),
    ("jane_doe@mail.com", "jane underscore doe at mail dot com"),
    ("a-1.b3_c&-d@gma4i-l.com", "a dash one dot b three underscore c ampersand dash d at gma four i dash l dot com"),
    ("sdf@gmail.com/123-sm", "s d f at gmail dot com slash one two three dash s m"),
    ("write to jobs2024@startup.co.", "write to jobs two zero two four at startup dot c o."),
    ("https://acme.io/reset", "h t t p s colon slash slash acme dot i o slash reset"),
    ("file:///photos/image.png", "file colon slash slash slash photos slash image dot p n g"),
    ("www.example.org/help", "w w w dot example dot org slash help"),
    ("ourdailynews.com/12-sm", "ourdailynews dot com slash one two dash s m"),
    ("http://www.nvidia.com/rtx-6000",
     "h t t p colon slash slash w w w dot nvidia dot com slash r t x dash six thousand"),
    ("example.com/a?b=1&c=2", "example dot com slash a question mark b equals one ampersand c equals two"),
    ("Follow @acmetools today", "follow at acmetools today"),
    ("test2.uk", "test two dot u k"),
    ("upgrade/update", "upgrade slash update"),
]


@pytest.mark.parametrize("raw, expected", CASES)
def test_electronic(raw, expected):
    assert normalize(raw) == expected
