#!/usr/bin/env python3
"""Reads the .trx files test.sh's `dotnet test` runs write, so the script's arithmetic stays out of bash.

  trx.py totals DIR        "passed failed skipped" over every DIR/*.trx
  trx.py failed DIR        the failed tests, one per line: name, outcome, duration, the start of the message
  trx.py filter DIR        a `dotnet test --filter` that selects the failed tests' methods (empty when none failed)
  trx.py rerunnable DIR    exit 0 when every failure is a test that failed (no crashed or aborted test host)
"""
import glob
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
FAILED = ("Failed", "Error", "Timeout", "Aborted")


def results(directory):
    for trx in sorted(glob.glob(directory + "/*.trx")):
        root = ET.parse(trx).getroot()
        methods = {d.get("id"): d.find("t:TestMethod", NS) for d in root.iterfind(".//t:UnitTest", NS)}
        for result in root.iterfind(".//t:UnitTestResult", NS):
            yield result, methods.get(result.get("testId"))


def totals(directory):
    passed = failed = skipped = 0
    for trx in sorted(glob.glob(directory + "/*.trx")):
        counters = ET.parse(trx).getroot().find(".//t:Counters", NS)
        if counters is None:
            continue
        count = lambda name: int(counters.get(name, "0"))
        passed += count("passed")
        failed += count("failed") + count("error") + count("timeout") + count("aborted")
        skipped += count("notExecuted")
    print(passed, failed, skipped)


def failed(directory):
    for result, _ in results(directory):
        if result.get("outcome") not in FAILED:
            continue
        message = result.findtext("t:Output/t:ErrorInfo/t:Message", "", NS).strip()
        print(f"  {result.get('testName')} [{result.get('outcome')}, {result.get('duration')}]")
        for line in message.splitlines()[:6]:
            print(f"    {line[:300]}")


def test_filter(directory):
    # A theory's cases share one method; the filter names methods, so every case of a failed theory runs again.
    names = set()
    for result, method in results(directory):
        if result.get("outcome") in FAILED and method is not None:
            names.add(f"{method.get('className')}.{method.get('name')}")
    print("|".join(f"FullyQualifiedName={name}" for name in sorted(names)))


def rerunnable(directory):
    # A crashed test host leaves tests that never ran and an error in the run's summary: running the failed tests
    # again would hide that, so only plain test failures qualify.
    for trx in sorted(glob.glob(directory + "/*.trx")):
        root = ET.parse(trx).getroot()
        for info in root.iterfind(".//t:ResultSummary/t:RunInfos/t:RunInfo", NS):
            text = info.findtext("t:Text", "", NS).lower()
            if "crash" in text or "aborted" in text:
                sys.exit(1)
    if any(r.get("outcome") in FAILED and r.get("outcome") != "Failed" for r, _ in results(directory)):
        sys.exit(1)


if __name__ == "__main__":
    commands = {"totals": totals, "failed": failed, "filter": test_filter, "rerunnable": rerunnable}
    if len(sys.argv) != 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2])
