import { render } from 'preact';
import { createAuth } from './auth';
import { App } from './components/App';
import { loadConfig } from './config';
import './styles.css';

async function boot(root: HTMLElement): Promise<void> {
  const config = await loadConfig();
  const auth = await createAuth(config);
  const session = await auth.current();
  render(<App config={config} auth={auth} initial={session} />, root);
}

const root = document.getElementById('app') as HTMLElement;
boot(root).catch((error: unknown) => {
  root.textContent = `Chirp could not start: ${error instanceof Error ? error.message : String(error)}`;
});
