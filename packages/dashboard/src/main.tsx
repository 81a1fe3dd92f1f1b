import { render } from 'preact';
import { App } from './app.js';
import { SignIn } from './views/sign-in.js';

// Under a proxy's path too (`/plexlift/signin`).
render(location.pathname.endsWith('/signin') ? <SignIn /> : <App />, document.getElementById('app')!);
