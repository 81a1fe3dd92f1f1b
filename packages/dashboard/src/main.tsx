import { render } from 'preact';
import { App } from './app.js';
import { SignIn } from './views/sign-in.js';

render(location.pathname === '/signin' ? <SignIn /> : <App />, document.getElementById('app')!);
