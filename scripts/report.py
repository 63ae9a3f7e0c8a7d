#!/usr/bin/env python3
"""Count every KUnit and kselftest case of one guest run.

KUnit's KTAP comes from the kernel console log; the kselftests' TAP comes
from the second serial port, framed per program by run-tests.sh.  Only leaf
results are counted: a result line that closes a block of subtests is the
summary of those subtests, not a case of its own.

A run also fails when the console shows a kernel BUG, WARN, oops, KASAN
report, lockdep splat or panic; that check is reported as one more case.

Prints "N passed, N failed, N skipped" last and exits 1 on any failure.
"""
import re
import sys

RESULT = re.compile(r'^(\s*)(not ok|ok) (\d+)\b\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
SPLAT = re.compile(
    r'(BUG:|WARNING:|kernel BUG at|Oops|general protection fault|'
    r'KASAN:|UBSAN:|KFENCE:|kmemleak:.*new suspected|'
    r'possible circular locking|possible recursive locking|'
    r'inconsistent lock state|suspicious RCU usage|'
    r'INFO: lockdep is turned off|Kernel panic|Bad rss-counter|Bad page state|'
    r'soft lockup|blocked for more than|rcu_sched self-detected|'
    r'rcu: INFO:)')
# Console text after the kernel timestamp.
STAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')


def leaf_results(lines):
    """Yield (status, name, directive) for leaf TAP/KTAP result lines."""
    stack = []  # indents of results seen since the last shallower result
    pending = []
    for raw in lines:
        m = RESULT.match(raw)
        if not m:
            continue
        indent = len(m.group(1).expandtabs(8))
        # A result at this indent closes all deeper results: the last of
        # them at indent+something were its children.
        has_children = any(i > indent for i in stack)
        stack = [i for i in stack if i <= indent]
        stack.append(indent)
        status = 'pass' if m.group(2) == 'ok' else 'fail'
        directive = (m.group(5) or '').strip()
        if directive.upper().startswith('SKIP'):
            status = 'skip'
        elif directive.upper().startswith('XFAIL'):
            status = 'pass'
        if has_children:
            # The parent summary; drop it, but keep a failing parent with
            # no failing child as a failure (e.g. a suite init error).
            kids = pending
            pending = []
            if status == 'fail' and not any(k[0] == 'fail' for k in kids):
                kids.append(('fail', (m.group(4) or m.group(3)) + ' (suite)', directive))
            yield from kids
        else:
            pending.append((status, m.group(4) or directive or m.group(3), directive))
    yield from pending


def kunit(console):
    out = []
    body = [STAMP.sub('', l) for l in console]
    # KUnit prints at boot before init runs; take the KTAP block.
    ktap = []
    inside = False
    for l in body:
        if l.startswith('KTAP version') or l.startswith('TAP version'):
            inside = True
        if inside:
            ktap.append(l)
        if inside and l.startswith('### MMRUST'):
            break
    for st, name, _ in leaf_results(ktap):
        out.append((st, 'kunit: ' + name))
    return out


def kselftests(tests):
    out = []
    block = None
    name = None
    done = False
    for l in tests:
        l = l.rstrip('\r\n')
        if l.startswith('### BEGIN '):
            name, block = l[10:].strip(), []
            continue
        if l.startswith('### END ') and name is not None:
            m = re.search(r'rc=(\d+)', l)
            rc = int(m.group(1)) if m else 255
            cases = [(st, f'{name}: {n}') for st, n, _ in leaf_results(block)]
            plan = None
            for b in block:
                pm = re.match(r'^1\.\.(\d+)', b)
                if pm:
                    plan = int(pm.group(1))
            if not cases:
                st = {0: 'pass', 4: 'skip'}.get(rc, 'fail')
                cases = [(st, f'{name} (exit {rc})')]
            elif rc not in (0, 4) and not any(c[0] == 'fail' for c in cases):
                cases.append(('fail', f'{name}: exited {rc}'))
            if plan is not None and len(cases) < plan:
                cases.append(('fail', f'{name}: only {len(cases)} of {plan} planned results'))
            out.extend(cases)
            name = block = None
            continue
        if l.startswith('### MMRUST TESTS DONE'):
            done = True
        if block is not None:
            block.append(l)
    if name is not None:
        out.append(('fail', f'{name}: did not finish (guest timeout or crash)'))
    if not done:
        out.append(('fail', 'kselftest run did not complete'))
    return out


def main():
    console = open([a for a in sys.argv[1:] if not a.startswith('--')][0], errors='replace').read().splitlines()
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    tests = open(args[1], errors='replace').read().splitlines() \
        if len(args) > 1 else []
    expect_kunit = '--no-kunit' not in sys.argv
    results = []
    if expect_kunit:
        k = kunit(console)
        if not k:
            k = [('fail', 'kunit: no KUnit results on the console')]
        results += k
    if tests or '--kselftests' in sys.argv:
        results += kselftests(tests)

    for a in sys.argv:
        if a.startswith('--qemu-rc='):
            rc = int(a.split('=', 1)[1])
            results.append(('pass' if rc == 0 else 'fail',
                            f'guest ran to power-off (qemu exit {rc})'))

    splats = [l for l in console if SPLAT.search(STAMP.sub('', l))]
    results.append(('fail' if splats else 'pass', 'kernel console has no BUG/WARN/oops/KASAN/lockdep splat'))

    for st, name in results:
        if st != 'pass':
            print(f'{st.upper()}: {name}')
    if splats:
        print('Offending console lines:')
        for l in splats[:60]:
            print('  ' + l)
    n = {s: sum(1 for r in results if r[0] == s) for s in ('pass', 'fail', 'skip')}
    print(f"{n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n['fail'] else 0


if __name__ == '__main__':
    sys.exit(main())
