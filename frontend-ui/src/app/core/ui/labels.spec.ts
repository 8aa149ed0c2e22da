import { describeModelService, formatBytes, formatDuration, humanize } from './labels';

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

  it('describes a model service in a few words', () => {
    const service = {
      model: 'm', roles: [], backend: 'server' as const, url: 'http://127.0.0.1:8081/v1', status: 'up' as const,
    };
    expect(describeModelService({ ...service, slots: 4 })).toBe('llama.cpp server, 4 slots, up');
    expect(describeModelService({ ...service, slots: 1, status: 'down' })).toBe('llama.cpp server, 1 slot, down');
    expect(describeModelService({ ...service, backend: 'llama_cpp', url: null })).toBe('llama.cpp in the worker, up');
  });
});
