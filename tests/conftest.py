"Fixtures shared by the end-to-end tests."
import pytest, torch
from fer_nbdev.data import FER2013_CLASSES
from fer_nbdev.models import create_model
from fer_nbdev.checkpoint import save_checkpoint


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    "An untrained, seeded `fer_tiny` checkpoint whose stated test accuracy is 0.25 (what `/v1/model` should repeat)."
    torch.set_num_threads(2)
    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp('tiny') / 'tiny.pt', create_model('fer_tiny'), list(FER2013_CLASSES),
                           metrics={'test': {'accuracy': 0.25}})
