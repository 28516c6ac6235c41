import type { Histogram } from './histogram.js';

type HistogramData = Pick<Histogram, 'bounds' | 'counts' | 'sum' | 'count'>;

/**
 * Prometheus text exposition format (version 0.0.4), written by hand: a few dozen lines do not
 * justify a client library. Names follow Prometheus conventions (`_total`, base units: seconds).
 */
export class PrometheusText {
  private readonly lines: string[] = [];

  private head(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  counter(name: string, help: string, value: number, labels?: Record<string, string>): this {
    this.head(name, 'counter', help);
    this.lines.push(`${name}${fmtLabels(labels)} ${num(value)}`);
    return this;
  }

  /** One metric family with several labelled samples. */
  counterFamily(name: string, help: string, samples: Array<[Record<string, string>, number]>): this {
    this.head(name, 'counter', help);
    for (const [labels, value] of samples) this.lines.push(`${name}${fmtLabels(labels)} ${num(value)}`);
    return this;
  }

  gauge(name: string, help: string, value: number, labels?: Record<string, string>): this {
    this.head(name, 'gauge', help);
    this.lines.push(`${name}${fmtLabels(labels)} ${num(value)}`);
    return this;
  }

  /** `scale` converts the histogram's unit to the metric's (e.g. 0.001 for ms → seconds). */
  histogram(name: string, help: string, h: HistogramData, scale = 1): this {
    return this.histogramFamily(name, help, [[{}, h]], scale);
  }

  /** One histogram family with a labelled set of buckets per entry (e.g. per stage). */
  histogramFamily(name: string, help: string, entries: Array<[Record<string, string>, HistogramData]>, scale = 1): this {
    this.head(name, 'histogram', help);
    for (const [labels, h] of entries) {
      const own = fmtLabels(labels);
      // `le` joins the entry's own labels inside one pair of braces.
      const le = (bound: string) => (own === '' ? `{le="${bound}"}` : `${own.slice(0, -1)},le="${bound}"}`);
      let cumulative = 0;
      h.bounds.forEach((b, i) => {
        cumulative += h.counts[i] ?? 0;
        this.lines.push(`${name}_bucket${le(num(b * scale))} ${cumulative}`);
      });
      this.lines.push(`${name}_bucket${le('+Inf')} ${h.count}`, `${name}_sum${own} ${num(h.sum * scale)}`, `${name}_count${own} ${h.count}`);
    }
    return this;
  }

  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(+v.toPrecision(12));
}

function fmtLabels(labels?: Record<string, string>): string {
  if (!labels || Object.keys(labels).length === 0) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}
