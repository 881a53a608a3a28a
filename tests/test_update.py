"""Generated projects follow the template with cruft, and keep their own edits.

Each test builds a git repository of the template one change behind the working
tree, generates a project from it, then commits the change and updates the project.
The change adds a whole file and edits another, the two kinds of change a template
makes. Generation only, except for one install of the updated project.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cookiecutter.generate import generate_context
from cookiecutter.hooks import run_script_with_context
from cookiecutter.prompt import prompt_for_config

from harness.options import TEMPLATE_ROOT, combinations
from harness.project import ANSWERS_FILE, Project, generate

PROJECT_TEMPLATE = "{{cookiecutter.project_slug}}"
TEMPLATE_PARTS = ["cookiecutter.json", "hooks", "local_extensions.py", PROJECT_TEMPLATE]
# The change the older template lacks: a test module, and a README line it dropped since.
ADDED_FILE = "tests/api/routes/test_health.py"
CHANGED_FILE = "README.md"
DROPPED_LINE = "This line comes from an older template."

UPDATE = ["update", "--skip-apply-ask", "--allow-untracked-files"]
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def command(
    args: list[str], cwd: Path, home: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A command with a throwaway home: no user git or cookiecutter config applies."""
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, "HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


def git(cwd: Path, *args: str) -> str:
    return command(["git", *args], cwd, home=cwd).stdout.strip()


def cruft(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return command([sys.executable, "-m", "cruft", *args], cwd, home=cwd, check=check)


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def older_template(tmp_path: Path) -> Path:
    """A git repository of the template as it was before ADDED_FILE and without DROPPED_LINE."""
    repo = tmp_path / "template"
    repo.mkdir()
    for part in TEMPLATE_PARTS:
        source = TEMPLATE_ROOT / part
        if source.is_dir():
            shutil.copytree(source, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / part)
    project = repo / PROJECT_TEMPLATE
    (project / ADDED_FILE).unlink()
    with (project / CHANGED_FILE).open("a") as readme:
        readme.write(f"\n{DROPPED_LINE}\n")
    git(repo, "init", "--quiet")
    commit_all(repo, "Older template")
    return repo


def advance(repo: Path) -> str:
    """Commit the change: the template is now the working tree again."""
    for relative in (ADDED_FILE, CHANGED_FILE):
        shutil.copy2(
            TEMPLATE_ROOT / PROJECT_TEMPLATE / relative, repo / PROJECT_TEMPLATE / relative
        )
    return commit_all(repo, "Add a health test, drop a README line")


def cruft_project(tmp_path: Path, template: Path) -> Path:
    """`cruft create` with the default answers, then the project's first commit."""
    output = tmp_path / "projects"
    output.mkdir()
    cruft(tmp_path, "create", str(template), "--no-input", "--output-dir", str(output))
    [root] = output.iterdir()
    git(root, "init", "--quiet")
    commit_all(root, "Generated")
    return root


def tree(root: Path) -> dict[str, bytes]:
    skip = {".git", ".cruft.json"}
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not skip.intersection(path.relative_to(root).parts)
    }


def update_problems(root: Path) -> list[str]:
    """What a person would have to resolve by hand after `cruft update`."""
    unmerged = git(root, "diff", "--name-only", "--diff-filter=U").split()
    rejected = [str(path.relative_to(root)) for path in root.rglob("*.rej")]
    return [
        *(f"{path}: conflict" for path in unmerged),
        *(f"{path}: rejected" for path in rejected),
    ]


def test_update_brings_the_template_change_and_the_project_still_passes_its_tests(
    tmp_path: Path,
) -> None:
    template = older_template(tmp_path)
    root = cruft_project(tmp_path, template)
    assert not (root / ADDED_FILE).exists()
    assert cruft(root, "check", check=False).returncode == 0

    new_commit = advance(template)
    assert cruft(root, "check", check=False).returncode != 0
    cruft(root, *UPDATE)

    assert update_problems(root) == []
    assert json.loads((root / ".cruft.json").read_text())["commit"] == new_commit
    assert cruft(root, "check", check=False).returncode == 0
    fresh = generate(tmp_path / "fresh", {}, template=template)
    assert tree(root) == tree(fresh)

    # The fast tier: the heavy one runs in the matrix, for this project's service shape too.
    project = Project(root=root, answers={}, name="update")
    try:
        project.provision()
        project.install()
        result = project.tool("pytest", "-q", "-p", "no:cacheprovider", "-m", "not heavy")
    finally:
        project.release()
    assert " passed" in result.stdout


def test_local_edits_survive_an_update(tmp_path: Path) -> None:
    template = older_template(tmp_path)
    root = cruft_project(tmp_path, template)
    readme = root / CHANGED_FILE
    readme.write_text("Owned by the payments team.\n" + readme.read_text())
    with (root / ".env.example").open("a") as env_example:
        env_example.write("PAYMENTS_PROVIDER_URL=https://payments.example.com\n")
    (root / "docs").mkdir()
    (root / "docs" / "runbook.md").write_text("# Runbook\n")
    commit_all(root, "Our own changes")

    advance(template)
    cruft(root, *UPDATE)

    assert update_problems(root) == []
    assert readme.read_text().startswith("Owned by the payments team.\n")
    assert DROPPED_LINE not in readme.read_text()
    assert (root / ADDED_FILE).is_file()
    assert "PAYMENTS_PROVIDER_URL=" in (root / ".env.example").read_text()
    assert (root / "docs" / "runbook.md").read_text() == "# Runbook\n"


def test_a_conflicting_edit_is_left_marked_for_the_user(tmp_path: Path) -> None:
    """cruft exits 0 on a conflict: the conflict shows in git, as the README explains."""
    template = older_template(tmp_path)
    root = cruft_project(tmp_path, template)
    readme = root / CHANGED_FILE
    readme.write_text(readme.read_text().replace(DROPPED_LINE, "Our own closing line."))
    commit_all(root, "Reword the closing line")

    advance(template)
    cruft(root, *UPDATE)

    assert update_problems(root) == [f"{CHANGED_FILE}: conflict"]
    text = readme.read_text()
    ours = text.index("<<<<<<< ours\n")
    assert ours < text.index("Our own closing line.") < text.index("=======\n")
    assert text.endswith(">>>>>>> theirs\n")
    assert (root / ADDED_FILE).is_file()


def test_a_plain_cookiecutter_project_links_from_its_answers_and_updates(tmp_path: Path) -> None:
    answers = {**combinations()[-1], "project_name": "Linked Service"}
    template = older_template(tmp_path)
    old_commit = git(template, "rev-parse", "HEAD")
    root = generate(tmp_path / "plain", answers, template=template)
    git(root, "init", "--quiet")
    commit_all(root, "Generated")

    recorded = (root / ANSWERS_FILE).read_text()
    cruft(
        root,
        "link",
        str(template),
        "--no-input",
        "--checkout",
        old_commit,
        "--extra-context",
        recorded,
    )
    linked = json.loads((root / ".cruft.json").read_text())
    assert linked["commit"] == old_commit
    assert {key: linked["context"]["cookiecutter"][key] for key in answers} == answers
    commit_all(root, "Link to the template")
    advance(template)
    cruft(root, *UPDATE)

    assert update_problems(root) == []
    fresh = generate(tmp_path / "fresh", answers, template=template)
    assert tree(root) == tree(fresh)


def test_post_generation_hook_run_again_changes_nothing(tmp_path: Path) -> None:
    """cruft and `cookiecutter --overwrite-if-exists` run the hook over existing files."""
    answers = combinations()[-1]  # Non-default answers: the hook has files to remove.
    root = generate(tmp_path, answers)
    before = tree(root)
    context = generate_context(
        context_file=str(TEMPLATE_ROOT / "cookiecutter.json"), extra_context=answers
    )
    rendered = {"cookiecutter": prompt_for_config(context, no_input=True)}

    run_script_with_context(
        str(TEMPLATE_ROOT / "hooks" / "post_gen_project.py"), str(root), rendered
    )

    assert tree(root) == before


def test_post_generation_hook_stays_offline() -> None:
    """No process or network modules: update tools run the hook wherever they run."""
    forbidden_modules = {"subprocess", "socket", "urllib", "http", "ftplib", "requests", "httpx"}
    forbidden_calls = {"system", "popen", "execv", "execvp", "spawnv", "startfile"}
    source = (TEMPLATE_ROOT / "hooks" / "post_gen_project.py").read_text()
    imported, called = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Attribute):
            called.add(node.attr)

    assert not imported & forbidden_modules
    assert not called & forbidden_calls
