"""What the tests of the source checkers (tests/layers/, tests/log_modules/)
share: the failed expectations, files written into a fake tree, and a
checker run on a tree."""

import os
import subprocess
import sys

failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
        print('FAIL: ' + what)


def write(root, relpath, text):
    """Appends text to root/relpath, creating it and its folders."""
    path = os.path.join(root, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a', encoding='utf-8') as f:
        f.write(text)


def run(checker, root):
    """Runs checker on root; returns its exit code and its output lines."""
    done = subprocess.run([sys.executable, checker, root], capture_output=True, text=True)
    print('$ %s %s  -> exit %d' % (os.path.basename(checker), root, done.returncode))
    print(done.stdout + done.stderr, end='')
    return done.returncode, done.stdout.splitlines()


def verdict(passed):
    """The exit code: 1 after naming how many checks failed, else 0 after
    printing passed."""
    if failures:
        print('%d checks failed' % len(failures))
        return 1
    print(passed)
    return 0
