#!/usr/bin/env python3
"""Check that base/log_modules.c lists exactly the modules the sources log
under, so that a log spec can name every one and names none that logs
nothing.

Usage: check_log_modules.py ROOT

ROOT is the source tree. The sources are every .c and .h under the layer
folders of ROOT/layers.txt and under apps/. A source logs under a module by
  MOD = "name"                      its static const char *MOD, or
  log_error("name", ...)            a string literal where the module goes
                                    (log_error .. log_trace; the second
                                    argument of LOG_AT, log_write and
                                    log_enabled).
Comments are ignored. Prints one line per problem (path:line: what) and
exits 1 if there is any, 0 if none, 2 if the table cannot be read.
"""

import os
import re
import sys

TABLE = 'base/log_modules.c'
TABLE_BODY = re.compile(r'\bnames\[\]\s*=\s*\{(.*?)\};', re.S)
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'',
                               re.S)
MODULE_USES = [
    re.compile(r'\bMOD\s*=\s*"([^"\n]*)"'),
    re.compile(r'\blog_(?:error|warn|info|debug|trace)\s*\(\s*"([^"\n]*)"'),
    re.compile(r'\b(?:LOG_AT|log_write|log_enabled)\s*\([^,()]*,\s*"([^"\n]*)"'),
]


def without_comments(text):
    """text with every comment blanked out (its newlines kept, so line
    numbers stay), strings and character constants untouched."""
    def blank(match):
        token = match.group(0)
        return re.sub(r'[^\n]', ' ', token) if token.startswith('/') else token
    return COMMENT_OR_STRING.sub(blank, text)


def line_of(text, offset):
    return text.count('\n', 0, offset) + 1


def read_table(root):
    """{name: line} of the table, or raises OSError/ValueError."""
    with open(os.path.join(root, TABLE), encoding='utf-8') as f:
        text = without_comments(f.read())
    body = TABLE_BODY.search(text)
    if not body:
        raise ValueError('%s: no "names[] = { ... };"' % TABLE)
    return {m.group(1): line_of(text, body.start(1) + m.start())
            for m in STRING.finditer(body.group(1))}


def source_folders(root):
    with open(os.path.join(root, 'layers.txt'), encoding='utf-8') as f:
        layers = re.findall(r'^layer\s+(\S+)', f.read(), re.M)
    return layers + ['apps']


def sources(root):
    for folder in source_folders(root):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
            for name in sorted(filenames):
                if name.endswith(('.c', '.h')):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def module_uses(root, relpath):
    """(line, name) for every module relpath logs under."""
    with open(os.path.join(root, relpath), encoding='utf-8', errors='replace') as f:
        text = without_comments(f.read())
    for pattern in MODULE_USES:
        for match in pattern.finditer(text):
            yield line_of(text, match.start(1)), match.group(1)


def main():
    if len(sys.argv) != 2:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        return 2
    root = os.path.abspath(sys.argv[1])
    try:
        table = read_table(root)
        folders = source_folders(root)
    except (OSError, ValueError) as error:
        print('check_log_modules: %s' % error, file=sys.stderr)
        return 2
    problems = []
    used = set()
    files = 0
    for relpath in sources(root):
        files += 1
        for number, name in module_uses(root, relpath):
            used.add(name)
            if name not in table:
                problems.append('%s:%d: logs under module "%s", which %s does not list'
                                % (relpath.replace(os.sep, '/'), number, name, TABLE))
    for name, number in sorted(table.items(), key=lambda item: item[1]):
        if name not in used:
            problems.append('%s:%d: module "%s" is listed, but no source in %s logs under it'
                            % (TABLE, number, name, ' '.join(folders)))
    for problem in problems:
        print(problem)
    if problems:
        print('check_log_modules: %d problems in %s' % (len(problems), root), file=sys.stderr)
        return 1
    print('check_log_modules: the %d modules of %s are those %d files log under'
          % (len(table), TABLE, files))
    return 0


if __name__ == '__main__':
    sys.exit(main())
