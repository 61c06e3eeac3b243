#!/usr/bin/python3
"""Reads a Prometheus text exposition on stdin with the Prometheus client's own parser
(Debian's python3-prometheus-client: prometheus_client.parser.text_string_to_metric_families)
and prints, for t/metrics.t, one line per family and one per sample, sorted:

    # family wa_pair_requests counter
    wa_pair_requests_total{location="/pair",outcome="ok",status="200"} 4

labels sorted by name (a value's \\, " and line feed escaped as in the format), whole numbers
without ".0". A text the parser refuses: its error on stderr, exit 1."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def number(value):
    return str(int(value)) if float(value).is_integer() else repr(value)


def main():
    lines = []
    try:
        for family in text_string_to_metric_families(sys.stdin.read()):
            lines.append(f"# family {family.name} {family.type}")
            for s in family.samples:
                labels = ",".join(f"{k}={quote(v)}" for k, v in sorted(s.labels.items()))
                lines.append(f"{s.name}{{{labels}}} {number(s.value)}" if labels
                             else f"{s.name} {number(s.value)}")
    except Exception as e:  # the parser's ValueError, or anything else it raises
        print(f"prom_samples: the exposition does not parse: {e!r}", file=sys.stderr)
        return 1
    print("\n".join(sorted(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
