"""README's commands are the ones CI runs, and the documented stages exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bash_blocks(text):
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = [line for b in bash_blocks(readme) for line in b.splitlines()
                    if "pytest" in line and not line.startswith("#")]
    assert len(test_command) == 1
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command[0] in ci


def test_readme_has_the_install_and_run_command():
    readme = (ROOT / "README.md").read_text()
    assert any("python -m mobility.pipeline --region synthetic" in b for b in bash_blocks(readme))
