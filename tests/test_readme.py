"""The README's ten-line example runs and learns what it claims."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_trains(capsys):
    code = re.search(r"## Ten lines\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, "README example", "exec"), {})
    loss, accuracy = map(float, capsys.readouterr().out.split())
    assert loss < 0.2 and accuracy > 0.95
