#!/usr/bin/env python3
"""Tests of scripts/report.py, on hand-made logs.

Each test writes one run directory (console.log, tests.log, qemu.rc, list),
judges it with report.judge_run() and checks the verdict: one test per hole
that the harness audit found (../shared/reviews/harness.md).  make check
runs these before it boots anything.
"""
import collections
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

KUNIT_OK = """\
[    1.000000] KTAP version 1
[    1.000000] 1..1
[    1.000000]     KTAP version 1
[    1.000000]     # Subtest: suite
[    1.000000]     1..2
[    1.000000]     ok 1 case_a
[    1.000000]     ok 2 case_b
[    1.000000] ok 1 suite
"""


def block(name, body, rc=0):
    lines = ''.join(f'| {l}\n' for l in body.splitlines())
    return f'### BEGIN {name}\n{lines}### END {name} rc={rc} secs=1\n'


def tap(*results):
    """A TAP block from results such as "ok a", "not ok b # SKIP why"."""
    out = ['TAP version 13', f'1..{len(results)}']
    for i, r in enumerate(results, 1):
        word = 'not ok' if r.startswith('not ok ') else 'ok'
        out.append(f'{word} {i} {r[len(word) + 1:]}')
    return '\n'.join(out) + '\n'


class Run:
    """A run directory made from pieces, with sane defaults."""

    def __init__(self, tmp, programs, console=KUNIT_OK, qrc=0, taint=262144,
                 done=True, poweroff=True, setup=(), extra='', listed=None, retry=()):
        self.dir = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(self.dir, 'console.log'), 'w') as f:
            f.write(console)
        with open(os.path.join(self.dir, 'qemu.rc'), 'w') as f:
            f.write(f'{qrc}\n')
        with open(os.path.join(self.dir, 'list'), 'w') as f:
            names = list(dict.fromkeys(name for name, _ in programs))
            f.write(''.join(f'{name} 60{" retry=1" if name in retry else ""}\n' for name in names))
        if listed is None:
            listed = len(names)
        out = '### MMRUST SETUP\n' + ''.join(f'### SETUP FAIL {s}\n' for s in setup)
        out += f'### MMRUST TESTS BEGIN\n### LIST {listed} programs\n'
        out += ''.join(b if b.startswith('###') else block(n, b) for n, b in programs)
        out += extra
        if done:
            out += f'### TAINTED {taint}\n### MMRUST TESTS DONE\n'
        if poweroff:
            out += '### MMRUST POWEROFF\n'
        with open(os.path.join(self.dir, 'tests.log'), 'w') as f:
            f.write(out)


def inv(*pairs):
    return collections.Counter(pairs)


BASE_INV = [('kunit', 'suite.case_a'), ('kunit', 'suite.case_b')]


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def judge(self, programs, inventory=(), skips=(), **kw):
        run = Run(self.tmp, programs, **kw)
        return report.judge_run('t', run.dir, inv(*BASE_INV, *inventory), inv(*skips))

    def assertGreen(self, res):
        cases, fails = res
        self.assertEqual(fails, [])
        self.assertFalse([c for c in cases if c[0] == 'fail'])

    def assertFails(self, res, text):
        cases, fails = res
        msgs = fails + [f'{p}: {n}{note}' for st, p, n, note in cases if st == 'fail']
        self.assertTrue(any(text in m for m in msgs), f'no failure with "{text}" in {msgs}')

    # The control: a clean run is green and counts its cases.
    def test_green(self):
        cases, fails = self.judge([('prog', tap('ok a', 'ok b'))],
                                  [('prog', 'a'), ('prog', 'b')])
        self.assertEqual(fails, [])
        self.assertEqual(collections.Counter(c[0] for c in cases), {'pass': 4})

    # Hole 1: skips.
    def test_skip_in_own_program_fails(self):
        self.assertFails(self.judge([('refpage', tap('ok a # SKIP no refpage'))],
                                    [('refpage', 'a')], [('refpage', 'a')]),
                         "series' own tests may not skip")

    def test_unexpected_upstream_skip_fails(self):
        self.assertFails(self.judge([('cow', tap('ok a # SKIP x'))], [('cow', 'a')]),
                         'not in guest/expected-skips')

    def test_expected_upstream_skip_is_a_skip(self):
        cases, fails = self.judge([('cow', tap('ok a # SKIP x'))], [('cow', 'a')],
                                  [('cow', 'a')])
        self.assertEqual(fails, [])
        self.assertIn(('skip', 'cow', 'a', ''), cases)

    def test_not_ok_skip_fails(self):
        self.assertFails(self.judge([('cow', tap('not ok a # SKIP x'))], [('cow', 'a')],
                                    [('cow', 'a')]), 'cow: a')

    def test_xfail_is_not_a_pass(self):
        cases, fails = self.judge([('cow', tap('ok a # XFAIL known'))], [('cow', 'a')])
        self.assertIn(('xfail', 'cow', 'a', ''), cases)

    def test_setup_failure_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')],
                                    setup=['swapon /dev/vda']), 'guest setup failed: swapon')

    # Hole 2: the inventory.
    def test_missing_case_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a'), ('p', 'b')]),
                         'p: missing case "b"')

    def test_unknown_case_fails(self):
        self.assertFails(self.judge([('p', tap('ok a', 'ok c'))], [('p', 'a')]),
                         'case "c" is not in guest/inventory')

    def test_program_without_cases_fails(self):
        self.assertFails(self.judge([('p', 'TAP version 13\n1..0\n')]), 'ran no test case')

    def test_listed_program_that_did_not_run_fails(self):
        run = Run(self.tmp, [('p', tap('ok a'))])
        with open(os.path.join(run.dir, 'list'), 'a') as f:
            f.write('q 60\n')
        with open(os.path.join(run.dir, 'tests.log')) as f:
            log = f.read().replace('### LIST 1 programs', '### LIST 2 programs')
        with open(os.path.join(run.dir, 'tests.log'), 'w') as f:
            f.write(log)
        self.assertFails(report.judge_run('t', run.dir, inv(*BASE_INV, ('p', 'a')), inv()),
                         'q: listed but did not run')

    def test_program_dropped_from_the_list_fails(self):
        run = Run(self.tmp, [('p', tap('ok a'))])
        self.assertFails(report.judge_run('t', run.dir, inv(*BASE_INV, ('p', 'a'), ('q', 'b')),
                                          inv(), required={'p', 'q'}),
                         'q: in the inventory, but not in the test list')

    def test_kunit_case_missing_fails(self):
        console = KUNIT_OK.replace('1..2', '1..1').replace('    ok 2 case_b\n', '')
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], console=console),
                         'kunit: missing case "suite.case_b"')

    def test_kunit_plan_not_met_fails(self):
        console = KUNIT_OK.replace('    ok 2 case_b\n', '')
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], console=console),
                         '1 of 2 planned results')

    def test_kunit_stray_ok_after_plan_not_counted(self):
        console = KUNIT_OK + '[    9.0] ok 7 something from a driver\n'
        self.assertGreen(self.judge([('p', tap('ok a'))], [('p', 'a')], console=console))

    def test_plan_not_met_fails(self):
        self.assertFails(self.judge([('p', 'TAP version 13\n1..3\nok 1 a\n')], [('p', 'a')]),
                         '1 of 3 planned results')

    # Hole 4: lost output.  runone prefixes every line, so an unterminated
    # last line can no longer swallow the END marker.
    def test_unterminated_line_then_exit_1_fails(self):
        b = '### BEGIN p\n| TAP version 13\n| 1..1\n| ok 1 a\n| Testing x... \n### END p rc=1 secs=0\n'
        self.assertFails(self.judge([('p', b)], [('p', 'a')]), 'exited 1 with no failing case')

    def test_bail_out_reason_is_reported(self):
        b = '### BEGIN p\n| TAP version 13\n| 1..2\n| ok 1 a\n| Bail out! No THP is allocated\n### END p rc=1 secs=0\n'
        self.assertFails(self.judge([('p', b)], [('p', 'a')]),
                         'exited 1 with no failing case (Bail out! No THP is allocated)')

    # A "retry=1" program: its failed first run is shown, not counted, when
    # the rerun passes and the first run bailed out for a reason that
    # report.RETRY_REASONS allows; anything else fails.
    P = 'split_huge_page_test'
    RETRY = f'### RETRY {P}: the first run failed; running it once more\n'

    def retried(self, second_ok=True, first=None, name=P, extra='', console=KUNIT_OK, **kw):
        if first is None:
            first = block(name, 'TAP version 13\n1..2\nok 1 a\nBail out! No THP is allocated\n', rc=1)
        second = block(name, tap('ok a', 'ok b' if second_ok else 'not ok b'),
                       rc=0 if second_ok else 1)
        retry = self.RETRY.replace(self.P, name)
        return self.judge([(name, first + extra), (name, retry + second)],
                          [(name, 'a'), (name, 'b')], console=console, **kw)

    def test_retry_then_pass_is_green_and_shown(self):
        res = self.retried(retry=(self.P,))
        self.assertGreen(res)
        reruns = [c for c in res[0] if c[0] == 'rerun']
        self.assertEqual(len(reruns), 1)
        self.assertIn('Bail out! No THP is allocated', reruns[0][3])
        self.assertEqual(collections.Counter(c[0] for c in res[0]), {'pass': 4, 'rerun': 1})

    def test_retry_then_fail_fails(self):
        self.assertFails(self.retried(second_ok=False, retry=(self.P,)), f'{self.P}: b')

    def test_retry_not_allowed_fails(self):
        self.assertFails(self.retried(), 'its list line does not say retry=1')

    def test_retry_own_program_fails(self):
        self.assertFails(self.retried(name='refpage', retry=('refpage',)),
                         "the series' own programs may never say it")

    def test_retry_after_corruption_fails(self):
        first = block(self.P, 'TAP version 13\n1..2\nok 1 a\nBail out! 12 byte corrupted\n', rc=1)
        self.assertFails(self.retried(first=first, retry=(self.P,)),
                         'a rerun may not excuse')

    def test_retry_after_signal_fails(self):
        first = block(self.P, 'TAP version 13\n1..2\nok 1 a\n', rc=139)
        self.assertFails(self.retried(first=first, retry=(self.P,)),
                         'a rerun may not excuse')

    def test_retry_after_failed_case_fails(self):
        first = block(self.P, tap('ok a', 'not ok b'), rc=1)
        self.assertFails(self.retried(first=first, retry=(self.P,)),
                         'a rerun may not excuse')

    def test_retry_after_timeout_fails(self):
        first = block(self.P, 'TAP version 13\n1..2\nok 1 a\nBail out! No THP is allocated\n', rc=137)
        self.assertFails(self.retried(first=first, retry=(self.P,),
                                      extra=f'### TIMEOUT {self.P}: killed after 300 s\n'),
                         'TIMEOUT')

    def test_retry_after_splat_fails(self):
        console = KUNIT_OK + '[    9.000000] WARNING: CPU: 1 PID: 77 at mm/huge_memory.c:1 x+0x1/0x2\n'
        self.assertFails(self.retried(console=console, retry=(self.P,)), 'splat')

    def test_retry_without_first_run_fails(self):
        self.assertFails(self.judge([(self.P, self.RETRY + block(self.P, tap('ok a', 'ok b')))],
                                    [(self.P, 'a'), (self.P, 'b')], retry=(self.P,)),
                         f'RETRY for {self.P} without a first run')

    def test_begin_inside_block_fails(self):
        b = '### BEGIN p\n| 1..1\n| ok 1 a\n'
        self.assertFails(self.judge([('p', b), ('q', tap('ok a'))], [('p', 'a'), ('q', 'a')]),
                         'no END marker before the next BEGIN')

    def test_uffd_cases_counted(self):
        out = ('Testing UFFDIO_API (with syscall)... done\n'
               'Testing move on anon... skipped [reason: feature missing]\n'
               'Testing wp on shmem... some noise\nfailed [reason: bad]\n'
               'Userfaults unit tests: pass=1, skip=1, fail=1 (total=3)\n')
        cases, fails = self.judge([('uffd-unit-tests', out)], [
            ('uffd-unit-tests', 'UFFDIO_API (with syscall)'),
            ('uffd-unit-tests', 'move on anon'), ('uffd-unit-tests', 'wp on shmem')],
            [('uffd-unit-tests', 'move on anon')])
        self.assertEqual(sorted(c[0] for c in cases if c[1] == 'uffd-unit-tests'),
                         ['fail', 'pass', 'skip'])

    def test_uffd_summary_mismatch_fails(self):
        out = 'Testing a... done\nUserfaults unit tests: pass=2, skip=0, fail=0 (total=2)\n'
        self.assertFails(self.judge([('uffd-unit-tests', out)], [('uffd-unit-tests', 'a')]),
                         'the summary says')

    def test_exit_format_skip_is_unexpected(self):
        b = '### BEGIN hugetlb-madvise\n| Not enough free huge pages\n### END hugetlb-madvise rc=4 secs=0\n'
        self.assertFails(self.judge([('hugetlb-madvise', b)],
                                    [('hugetlb-madvise', 'hugetlb-madvise')]),
                         'not in guest/expected-skips')

    def test_uffd_case_without_verdict_fails(self):
        out = ('Testing a... \nTesting b... done\n'
               'Userfaults unit tests: pass=1, skip=0, fail=1 (total=2)\n')
        self.assertFails(self.judge([('uffd-unit-tests', out)],
                                    [('uffd-unit-tests', 'a (no verdict)'), ('uffd-unit-tests', 'b')]),
                         'a (no verdict)')

    def test_uffd_done_then_failed_fails(self):
        out = ('Testing a... waiting done\nfailed [reason: bad]\n'
               'Userfaults unit tests: pass=0, skip=0, fail=1 (total=1)\n')
        self.assertFails(self.judge([('uffd-unit-tests', out)], [('uffd-unit-tests', 'a')]),
                         'uffd-unit-tests: a')

    def test_repeated_result_number_fails(self):
        self.assertFails(self.judge([('p', 'TAP version 13\n1..2\nok 1 a\nok 1 b\nok 2 c\n')],
                                    [('p', 'a'), ('p', 'c')]), 'result number 1 repeated')

    def test_ksm_repeat_keeps_the_parent(self):
        out = 'TAP version 13\n1..2\nok 1 a\nok 2 child\nok 2 parent\n'
        cases, fails = self.judge([('ksm_functional_tests', out)],
                                  [('ksm_functional_tests', 'a'), ('ksm_functional_tests', 'parent')])
        self.assertEqual(fails, [])
        out = 'TAP version 13\n1..2\nok 1 a\nnot ok 2 child\nok 2 parent\n'
        self.assertFails(self.judge([('ksm_functional_tests', out)],
                                    [('ksm_functional_tests', 'a'), ('ksm_functional_tests', 'parent')]),
                         'result number 2 repeated')

    def test_more_skips_than_expected_fails(self):
        self.assertFails(self.judge([('cow', tap('ok # SKIP x', 'ok # SKIP x'))],
                                    [('cow', 'SKIP x'), ('cow', 'SKIP x')], [('cow', 'SKIP x')]),
                         'skipped more often')

    def test_xfail_in_own_program_fails(self):
        self.assertFails(self.judge([('refpage', tap('ok a # XFAIL x'))], [('refpage', 'a')]),
                         "may not expect failures")

    def test_wrong_list_in_guest_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], listed=5),
                         'ran a list of 5 programs')

    def test_lockdep_off_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')],
                                    extra='### DEBUG_LOCKS 0\n'), 'lockdep turned itself off')

    def test_timeout_fails(self):
        b = '### BEGIN p\n| 1..1\n| ok 1 a\n### TIMEOUT p after 60 s\n### END p rc=137 secs=60\n'
        self.assertFails(self.judge([('p', b)], [('p', 'a')]), 'TIMEOUT p')

    # Hole 5: splats, taint, a guest that never finished.
    def test_splats_fail(self):
        for msg in ['INFO: trying to register non-static key.',
                    '** 5 printk messages dropped **',
                    'kmemleak: Kernel memory leak detector disabled',
                    'kmemleak: Cannot allocate a kmemleak_object structure',
                    'BUG kmalloc-64 (Not tainted): Poison overwritten',
                    'list_add corruption. prev->next should be next',
                    'watchdog: BUG: soft lockup - CPU#0 stuck for 22s!',
                    'INFO: task a:1 blocked for more than 120 seconds.',
                    'WARNING: CPU: 0 PID: 1 at mm/memory.c:1 f+0x1/0x2']:
            with self.subTest(msg=msg):
                self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')],
                                            console=KUNIT_OK + f'[    5.0] {msg}\n'),
                                 'kernel console splat')

    def test_taint_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], taint=512 | 262144),
                         'flags W')

    def test_no_poweroff_fails(self):
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], poweroff=False),
                         'did not power off cleanly')

    def test_boot_deadline_fails(self):
        self.assertFails(self.judge([], qrc=125, done=False, poweroff=False),
                         'boot deadline')

    def test_no_logs_fails(self):
        d = tempfile.mkdtemp(dir=self.tmp)
        self.assertFails(report.judge_run('t', d, inv(), inv()), 'produced no log')

    def test_kmemleak_report_fails(self):
        extra = '### KMEMLEAK report follows\n| unreferenced object 0xffff (size 64):\n'
        self.assertFails(self.judge([('p', tap('ok a'))], [('p', 'a')], extra=extra),
                         'kmemleak reported leaks')


class UffdKtapTest(unittest.TestCase):
    """uffd-unit-tests in KTAP (7.x) is judged as TAP, plan included."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def judge(self, body, inventory):
        run = Run(self.tmp, [('uffd-unit-tests', body)])
        return report.judge_run('t', run.dir, inv(*BASE_INV, *inventory), inv())

    def test_ktap_green(self):
        cases, fails = self.judge(tap('ok move on anon', 'ok poison on anon'),
                                  [('uffd-unit-tests', 'move on anon'),
                                   ('uffd-unit-tests', 'poison on anon')])
        self.assertEqual(fails, [])
        self.assertEqual(collections.Counter(c[0] for c in cases), {'pass': 4})

    def test_ktap_missed_plan_fails(self):
        body = 'TAP version 13\n1..3\nok 1 move on anon\nok 2 poison on anon\n'
        cases, fails = self.judge(body, [('uffd-unit-tests', 'move on anon'),
                                         ('uffd-unit-tests', 'poison on anon')])
        self.assertTrue(fails, 'a KTAP uffd block that misses its plan must fail')


class MreleaseNameTest(unittest.TestCase):
    """mrelease_test's case name carries a size that varies from run to run."""

    def test_size_normalized(self):
        tmp = tempfile.mkdtemp()
        inventory = [('mrelease_test', 'Success reaping a child with N MB of memory allocations')]
        for size in (1, 2, 64):
            run = Run(tmp, [('mrelease_test',
                             tap(f'ok Success reaping a child with {size}MB of memory allocations'))])
            cases, fails = report.judge_run('t', run.dir, inv(*BASE_INV, *inventory), inv())
            self.assertEqual(fails, [], size)


class SkipTitleTest(unittest.TestCase):
    """A case that skips under its own title is the inventory's case."""

    def run_one(self, body, skips=()):
        tmp = tempfile.mkdtemp()
        run = Run(tmp, [('cow', body)])
        return report.judge_run('t', run.dir, inv(*BASE_INV, ('cow', 'T: T')), inv(*skips))

    def test_pass(self):
        cases, fails = self.run_one('TAP version 13\n1..1\n# [RUN] T\nok 1 T\n')
        self.assertEqual(fails, [])
        self.assertFalse([c for c in cases if c[0] == 'fail'])

    def test_listed_skip_is_a_skip(self):
        cases, fails = self.run_one('TAP version 13\n1..1\n# [RUN] T\nok 1 # SKIP T\n',
                                    [('cow', 'T: T')])
        self.assertEqual(fails, [])
        self.assertIn(('skip', 'cow', 'T: T', ''), cases)

    def test_pattern_skip_is_a_skip(self):
        cases, fails = self.run_one('TAP version 13\n1..1\n# [RUN] T\nok 1 # SKIP T\n',
                                    [('cow', 're:T.*')])
        self.assertEqual(fails, [])
        self.assertIn(('skip', 'cow', 'T: T', ''), cases)

    def test_pattern_of_another_program_does_not_count(self):
        cases, fails = self.run_one('TAP version 13\n1..1\n# [RUN] T\nok 1 # SKIP T\n',
                                    [('gup_longterm', 're:T.*')])
        self.assertTrue([c for c in cases if c[0] == 'fail'])

    def test_unlisted_skip_fails(self):
        cases, fails = self.run_one('TAP version 13\n1..1\n# [RUN] T\nok 1 # SKIP T\n')
        self.assertTrue([c for c in cases if c[0] == 'fail'])


class BasesTest(unittest.TestCase):
    """main() judges each run against its own base's tables."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.guest = os.path.join(self.tmp, 'guest')
        for base, case in (('7.3', 'new'), ('6.12', 'old')):
            d = os.path.join(self.guest, base)
            os.makedirs(d)
            with open(os.path.join(d, 'inventory'), 'w') as f:
                f.write(''.join(f'{p}\t{n}\n' for p, n in BASE_INV) + f'prog\t{case}\n')
            with open(os.path.join(d, 'expected-skips'), 'w') as f:
                f.write('')
            with open(os.path.join(d, 'debug-programs'), 'w') as f:
                f.write('prog\n')

    def main(self, *runs):
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            rc = report.main(['--guest-dir', self.guest, *runs])
        return rc, out.getvalue()

    def run_dir(self, case):
        return Run(self.tmp, [('prog', tap(f'ok {case}'))]).dir

    def test_each_base_its_own_inventory(self):
        rc, out = self.main(f'7.3={self.run_dir("new")}', f'7.3-debug={self.run_dir("new")}',
                            f'6.12={self.run_dir("old")}')
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.endswith('9 passed, 0 failed, 0 skipped\n'), out)

    def test_failure_names_its_base(self):
        rc, out = self.main(f'7.3={self.run_dir("new")}', f'6.12={self.run_dir("new")}')
        self.assertEqual(rc, 1)
        self.assertIn('FAIL: 6.12: prog: case "new" is not in guest/inventory', out)
        self.assertIn('FAIL: 6.12: prog: missing case', out.replace('"old"', ''))
        self.assertNotIn('FAIL: 7.3:', out)

    def test_missing_base_tables(self):
        rc, out = self.main(f'5.4={self.run_dir("new")}')
        self.assertEqual(rc, 2)
        self.assertIn('guest/5.4/inventory is missing', out)


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0]] + [a for a in sys.argv[1:] if a != '-q'],
                  verbosity=0 if '-q' in sys.argv else 1)
