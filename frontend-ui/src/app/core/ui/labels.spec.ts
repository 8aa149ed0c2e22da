import { formatBytes, formatDuration, humanize } from './labels';

describe('labels', () => {
  it('humanizes enumeration values', () => {
    expect(humanize('feature_development')).toBe('Feature development');
    expect(humanize('api_service')).toBe('API service');
    expect(humanize('devops')).toBe('DevOps');
    expect(humanize('llm')).toBe('LLM');
    expect(humanize(null)).toBe('');
  });

  it('formats durations and sizes', () => {
    expect(formatDuration(800)).toBe('0.8 s');
    expect(formatDuration(62_000)).toBe('1 min 2 s');
    expect(formatDuration(3_700_000)).toBe('1 h 1 min');
    expect(formatDuration(null)).toBe('');
    expect(formatBytes(100)).toBe('100 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
  });
});
