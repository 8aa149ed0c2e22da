import { ModelBackend, ModelService } from '../api/models';

/** Words that are not written as plain lower-case words. */
const SPELLED: Record<string, string> = { llm: 'LLM', devops: 'DevOps', api: 'API', ui: 'UI', ok: 'OK' };

/** `feature_development` → `Feature development`; `api_service` → `API service`. */
export function humanize(value: string | null | undefined): string {
  if (!value) {
    return '';
  }
  const words = value.split('_').map((word) => SPELLED[word.toLowerCase()] ?? word);
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** 61500 → `1 min 2 s`; 800 → `0.8 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  if (ms < 10_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  const seconds = Math.round(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (hours) {
    return `${hours} h ${minutes % 60} min`;
  }
  return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
}

/** 1536 → `1.5 KB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) {
    return '';
  }
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** What runs a model service, in words (every backend has one: a backend the API adds is a compile error here). */
const BACKENDS: Record<ModelBackend, string> = {
  server: 'llama.cpp server',
  openai: 'OpenAI-compatible server',
  llama_cpp: 'llama.cpp in the worker',
  scripted: 'scripted replies',
};

export function modelBackend(backend: ModelBackend): string {
  return BACKENDS[backend] ?? backend;
}

/** A model service in a few words: `llama.cpp server, 4 slots, up`. */
export function describeModelService(service: ModelService): string {
  const slots = service.slots === null || service.slots === undefined ? [] : [plural(service.slots, 'slot')];
  return [modelBackend(service.backend), ...slots, service.status].join(', ');
}

/** 1 → `1 slot`; 4 → `4 slots`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
