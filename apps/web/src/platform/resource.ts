import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { session } from './session.ts';

export interface Resource<T> {
  data: ShallowRef<T | undefined>;
  error: Ref<unknown>;
  /** True until the first answer (or error); later refreshes keep showing the last data. */
  loading: Ref<boolean>;
  refresh: () => Promise<void>;
}

export interface ResourceOptions {
  /** Reloads this often while the page is open, so new state shows without a reload. */
  pollMs?: number;
}

/**
 * Data of one page section: loaded on mount, again on a project switch or sign-in, and every `pollMs`.
 * A failed refresh keeps the last data and shows the error next to it.
 */
export function useResource<T>(load: () => Promise<T>, opts: ResourceOptions = {}): Resource<T> {
  const data = shallowRef<T | undefined>();
  const error = ref<unknown>(null);
  const loading = ref(true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let alive = true;
  let seq = 0;

  const refresh = async () => {
    const mine = ++seq;
    try {
      const value = await load();
      if (mine !== seq || !alive) return;
      data.value = value;
      error.value = null;
    } catch (e) {
      if (mine !== seq || !alive) return;
      error.value = e;
    } finally {
      if (mine === seq) loading.value = false;
    }
  };

  const schedule = () => {
    if (!opts.pollMs || !alive) return;
    timer = setTimeout(async () => {
      if (document.visibilityState !== 'hidden') await refresh();
      schedule();
    }, opts.pollMs);
  };

  onMounted(() => {
    void refresh();
    schedule();
  });
  onBeforeUnmount(() => {
    alive = false;
    clearTimeout(timer);
  });
  watch(
    () => session.generation,
    () => {
      loading.value = true;
      data.value = undefined;
      void refresh();
    },
  );
  return { data, error, loading, refresh };
}
