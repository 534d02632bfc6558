#!/usr/bin/env python3
"""The log module checker can fail: it passes a tree whose table lists
exactly the modules its sources log under, and names every file that breaks
that.

Usage: test_check_log_modules.py CHECKER ROOT

1. A fake tree in a temporary folder: a layers.txt of two layers, a table
   of three modules, and sources that log under each (by MOD, by a literal
   in log_warn, by a literal in log_write), with a module named only in
   comments. The checker must pass it. Then a layer file logs under a
   module the table lacks by MOD, an apps/ file by a literal in log_info,
   and the only user of a module logs under another: the checker must exit
   1 and print exactly those problems.
2. A copy of the real tree's layers, apps/ and layers.txt: the checker must
   pass it, then fail naming an injected lib/ file whose MOD the table
   lacks.
The temporary folders are removed whatever the outcome.
"""

import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from checker_harness import expect, run, verdict, write  # noqa: E402


def test_fake_tree(checker):
    with tempfile.TemporaryDirectory(prefix='log-modules-fake-') as root:
        write(root, 'layers.txt', 'layer base grp_base_dep uses\n'
                                  'layer lib grp_api_dep uses base\n')
        write(root, 'base/log_modules.c', '/* "commented" */\n'
                                          'static const char *const names[] = {\n'
                                          '\t"alpha", "beta",\n'
                                          '\t"gamma",\n'
                                          '};\n')
        write(root, 'base/a.c', 'static const char *MOD = "alpha";\n'
                                '/* static const char *MOD = "commented"; */\n'
                                '// log_warn("commented", "x");\n')
        write(root, 'lib/b.c', 'void f(void)\n{\n\tlog_warn( "beta", "%d", 1);\n}\n')
        write(root, 'lib/c.h', '#define SAY() log_write(LOG_INFO, "gamma", "x")\n')
        code, out = run(checker, root)
        expect(code == 0 and len(out) == 1, 'the clean fake tree passes')

        write(root, 'lib/inject.c', '\nstatic const char *MOD = "delta";\n')
        write(root, 'apps/tool.c', 'int main(void)\n{\n\tlog_info("epsilon", "x");\n}\n')
        os.remove(os.path.join(root, 'lib/c.h'))
        write(root, 'lib/c.h', '#define SAY() log_write(LOG_INFO, "alpha", "x")\n')
        code, out = run(checker, root)
        expect(code == 1, 'the injected tree fails with exit 1')
        wanted = [
            'apps/tool.c:3: logs under module "epsilon", which base/log_modules.c does not list',
            'lib/inject.c:2: logs under module "delta", which base/log_modules.c does not list',
            'base/log_modules.c:4: module "gamma" is listed, but no source in base lib apps '
            'logs under it',
        ]
        expect(sorted(out) == sorted(wanted), 'exactly the injected problems')


def test_real_copy(checker, source_root):
    with open(os.path.join(source_root, 'layers.txt'), encoding='utf-8') as f:
        folders = re.findall(r'^layer\s+(\S+)', f.read(), re.M) + ['apps']
    with tempfile.TemporaryDirectory(prefix='log-modules-copy-') as root:
        shutil.copyfile(os.path.join(source_root, 'layers.txt'), os.path.join(root, 'layers.txt'))
        for folder in folders:
            if os.path.isdir(os.path.join(source_root, folder)):
                shutil.copytree(os.path.join(source_root, folder), os.path.join(root, folder),
                                ignore=shutil.ignore_patterns('.*'))
        code, _ = run(checker, root)
        expect(code == 0, 'the copy of the real tree passes')
        write(root, 'lib/inject_modules.c', 'static const char *MOD = "no_such_module";\n')
        code, out = run(checker, root)
        expect(code == 1, 'the injected copy fails with exit 1')
        expect(any(line.startswith('lib/inject_modules.c:1: logs under module "no_such_module"')
                   for line in out), 'names lib/inject_modules.c')


def main():
    checker, source_root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    test_fake_tree(checker)
    test_real_copy(checker, source_root)
    return verdict('the checker passes a matching tree and names every injected problem')


if __name__ == '__main__':
    sys.exit(main())
