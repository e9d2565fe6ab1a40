"""Real-data check of the flight/contact detection on treadmill running with force plates
(../shared/gait, see its README.md). A running step is a contact then a flight, and during a
running flight the body is in free fall just as in a hop.

alcantara2022_sacrum (500 Hz, sacral biaxial accelerometer, both feet on one belt, so the
reference flight = next IC − TO): the vertical axis only is used. Its AP axis carries an
offset of −0.12…−0.84 g that persists in flight (a free-falling accelerometer reads 0), so it
is a sensor/processing offset, and there is no ML axis to complete |a|. The authors also
low-passed at 20 Hz and set negative vertical values to 0, which blurs the edges.

bach2022_shank (142.9 Hz, one leg's force only): no flight reference exists (the other
leg's contacts are unknown), the rate is below the hop test's 200 Hz, and a running shank
swings through flight with large centripetal/tangential accelerations: it is never in free
fall. The check asserts that: no flights are detected there, and the hop test refuses it.

Measured (see ``-s``): alcantara 268 of 269 flights matched, 0 extra, flight-time MAE
20.9 ms, bias −8.5 ms (per trial −40…+26 ms); bach: 0 flights.
"""

import numpy as np
import pandas as pd
import pytest

from sensorhub.gait.signal import sampling_rate
from sensorhub.readiness import ReadinessError, analyse_leg, detect_flights
from tests.shared import shared_dir

pytestmark = pytest.mark.shared


def _trials(dataset: str):
    for ev in sorted(shared_dir("gait", dataset).glob("trial*.events.csv")):
        yield (
            ev.name[:7],
            pd.read_csv(ev.with_name(ev.name.replace(".events", ""))),
            pd.read_csv(ev),
        )


def _match(det: pd.DataFrame, to: np.ndarray, ic: np.ndarray) -> list[tuple[int, int]]:
    """Reference flight i ↔ detected flight j whose midpoints are within 50 ms (one-to-one)."""
    pairs, used = [], set()
    mid = ((det.takeoff_s + det.landing_s) / 2).to_numpy()
    for i, m in enumerate((to + ic) / 2):
        if mid.size == 0:
            break
        j = int(np.argmin(np.abs(mid - m)))
        if abs(mid[j] - m) <= 0.05 and j not in used:
            used.add(j)
            pairs.append((i, j))
    return pairs


def test_sacrum_running_flights_against_force_plate():
    rows = []
    for trial, frame, ref in _trials("alcantara2022_sacrum"):
        t = frame.t_s.to_numpy()
        det = detect_flights(t, frame.acc_v_g.to_numpy(), sampling_rate(t))
        to, ic = ref.to_s.to_numpy()[:-1], ref.ic_s.to_numpy()[1:]
        det = det[(det.landing_s > to.min() - 0.05) & (det.takeoff_s < ic.max() + 0.05)]
        det = det.reset_index(drop=True)
        pairs = _match(det, to, ic)
        err = np.array([det.flight_ms[j] - 1000 * (ic[i] - to[i]) for i, j in pairs])
        rows.append(
            {
                "trial": trial,
                "n": len(to),
                "found": len(pairs),
                "extra": len(det) - len(pairs),
                "ref_flight_ms": 1000 * np.mean(ic - to),
                "bias_ms": err.mean(),
                "mae_ms": np.abs(err).mean(),
            }
        )
    table = pd.DataFrame(rows)
    found = table.found.sum()
    mae = float((table.mae_ms * table.found).sum() / found)
    bias = float((table.bias_ms * table.found).sum() / found)
    print(
        f"\n{table.round(1).to_string(index=False)}\nrecall={found / table.n.sum():.3f} "
        f"extra={table.extra.sum()} flight MAE={mae:.1f} ms bias={bias:.1f} ms"
    )
    assert found / table.n.sum() >= 0.99
    assert table.extra.sum() <= 2
    assert mae <= 25.0
    assert abs(bias) <= 15.0


def test_running_shank_is_never_in_free_fall():
    n = 0
    for _, frame, _ in _trials("bach2022_shank"):
        t = frame.t_s.to_numpy()
        acc = frame[["acc_v_g", "acc_ap_g", "acc_ml_g"]].to_numpy()
        n += len(detect_flights(t, acc, sampling_rate(t)))
        with pytest.raises(ReadinessError, match=r"142\.9 Hz"):
            analyse_leg("hop", frame.drop(columns="grf_v"), "shank")
    print(f"\nbach2022_shank: {n} free-fall phases detected in running")
    assert n == 0
