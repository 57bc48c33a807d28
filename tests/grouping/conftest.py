import pytest

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.standards.tables import builtin_dir, load_scheme


@pytest.fixture(scope="session")
def chs() -> Grouper:
    return Grouper(load_scheme(builtin_dir("chs_drg_11")), load_codebook())


@pytest.fixture(scope="session")
def zj() -> Grouper:
    return Grouper(load_scheme(builtin_dir("zhejiang_2022")), load_codebook())
