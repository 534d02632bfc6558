#!/usr/bin/env python3
"""The layer checker can fail: it passes a tree that keeps to layers.txt and
names every file that breaks it.

Usage: test_check_layers.py CHECKER ROOT

1. A fake tree in a temporary folder, made from ROOT/layers.txt: every layer
   present includes its own header, those of the layers it may use and the
   public header; its meson.build names the dependencies it may. The checker
   must pass it. Then forbidden includes are injected (sst/ including an
   epoch/ header, rdmc/ including base/config.h, an include that resolves to
   no header, a header two layers offer, a missing <group/...> header), a
   folder with a meson.build that layers.txt does not list appears and
   rdmc/meson.build names sst's dependency: the checker must exit 1 and print exactly those violations.
2. A copy of the real tree's layers, with an sst/ file including an epoch/
   header and an rdmc/ file including config.h: the checker must exit 1 and
   name both files (today's own violations may be listed beside them).
The temporary folders are removed whatever the outcome.
"""

import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from check_layers import parse_rules  # noqa: E402
from checker_harness import expect, failures, run, verdict, write  # noqa: E402


def fake_tree(root, rules):
    shutil.copyfile(rules.path, os.path.join(root, 'layers.txt'))
    write(root, 'include/group/pub.h', '#pragma once\n')
    for layer in rules.order:
        lines = ['#include "%s_api.h"\n' % layer, '#include <group/pub.h>\n', '#include <stdio.h>\n']
        lines += ['#include "%s_api.h"\n' % used for used in sorted(rules.uses[layer])]
        write(root, '%s/%s_api.h' % (layer, layer), '#pragma once\n')
        write(root, '%s/%s.c' % (layer, layer), ''.join(lines))
        deps = ', '.join(rules.dep[used] for used in sorted(rules.uses[layer]))
        write(root, '%s/meson.build' % layer,
              "lib_%s = static_library('%s', '%s.c', dependencies : [%s])\n"
              "%s = declare_dependency(link_with : lib_%s, dependencies : [%s])\n"
              % (layer, layer, layer, deps, rules.dep[layer], layer, deps))
    for header, allowed in rules.only.items():
        write(root, header, '#pragma once\n')
        for layer in allowed:
            write(root, '%s/%s.c' % (layer, layer),
                  '#include "%s"\n' % os.path.basename(header))


def line_count(path):
    with open(path, encoding='utf-8') as f:
        return sum(1 for _ in f)


def test_fake_tree(checker, rules):
    for needed in ('sst', 'epoch', 'rdmc', 'lib'):
        expect(needed in rules.uses, 'layers.txt lists layer ' + needed)
    expect('epoch' not in rules.uses.get('sst', ()), 'layers.txt: sst may not use epoch')
    expect('sst' not in rules.uses.get('rdmc', ()), 'layers.txt: rdmc may not use sst')
    expect('rdmc' not in rules.only.get('base/config.h', {'rdmc'}),
           'layers.txt: rdmc may not include base/config.h')
    if failures:
        return
    with tempfile.TemporaryDirectory(prefix='layers-fake-') as root:
        fake_tree(root, rules)
        code, out = run(checker, root)
        expect(code == 0 and not out[1:], 'the clean fake tree passes')

        write(root, 'sst/inject.c', '#include "sst_api.h"\n#include "epoch_api.h"\n')
        write(root, 'rdmc/inject.c', '#include <string.h>\n#include "config.h"\n')
        write(root, 'lib/inject.h', '#include "nowhere.h"\n')
        write(root, 'links/inject.c', '#include <group/nowhere.h>\n')
        write(root, 'fabric/dup.h', '#pragma once\n')
        write(root, 'links/dup.h', '#pragma once\n')
        write(root, 'epoch/inject.c', '#include "dup.h"\n')
        write(root, 'stray/meson.build', "stray = 1\n")
        meson_line = line_count(os.path.join(root, 'rdmc/meson.build')) + 1
        write(root, 'rdmc/meson.build', "extra = [grp_sst_dep]\n")
        code, out = run(checker, root)
        expect(code == 1, 'the injected tree fails with exit 1')
        wanted = [
            'lib/inject.h:1: includes "nowhere.h", which is no header',
            'epoch/inject.c:1: includes "dup.h", a header of each of the layers fabric, links',
            'links/inject.c:1: includes <group/nowhere.h>, which is not in include/group/',
            'rdmc/inject.c:2: includes base/config.h, which only ',
            'rdmc/meson.build:%d: depends on grp_sst_dep, of layer sst, which layer rdmc'
            % meson_line,
            'sst/inject.c:2: includes header of layer epoch (epoch/epoch_api.h), which layer '
            'sst may not use',
            'stray/meson.build:1: folder stray is neither a layer nor outside the layers',
        ]
        expect(len(out) == len(wanted), 'exactly %d violations, got %d' % (len(wanted), len(out)))
        for prefix in wanted:
            expect(any(line.startswith(prefix) for line in out), 'names: ' + prefix)


def test_real_copy(checker, source_root, rules):
    epoch_headers = sorted(h for h in os.listdir(os.path.join(source_root, 'epoch'))
                           if h.endswith('.h'))
    expect(epoch_headers, 'the real epoch/ has a header')
    if not epoch_headers:
        return
    with tempfile.TemporaryDirectory(prefix='layers-copy-') as root:
        shutil.copyfile(rules.path, os.path.join(root, 'layers.txt'))
        for folder in rules.order + ['include']:
            if os.path.isdir(os.path.join(source_root, folder)):
                shutil.copytree(os.path.join(source_root, folder), os.path.join(root, folder),
                                ignore=shutil.ignore_patterns('.*'))
        write(root, 'sst/inject_layers.c', '#include "%s"\n' % epoch_headers[0])
        write(root, 'rdmc/inject_layers.c', '#include "config.h"\n')
        code, out = run(checker, root)
        expect(code == 1, 'the injected copy fails with exit 1')
        expect(any(l.startswith('sst/inject_layers.c:1: includes header of layer epoch')
                   for l in out), 'names sst/inject_layers.c')
        expect(any(l.startswith('rdmc/inject_layers.c:1: includes base/config.h')
                   for l in out), 'names rdmc/inject_layers.c')


def main():
    checker, source_root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    rules = parse_rules(os.path.join(source_root, 'layers.txt'))
    rules.path = os.path.join(source_root, 'layers.txt')
    test_fake_tree(checker, rules)
    test_real_copy(checker, source_root, rules)
    return verdict('the checker passes a clean tree and names every injected violation')


if __name__ == '__main__':
    sys.exit(main())
