import { createApp } from 'vue';
import App from './App.vue';
import { createConsoleRouter } from './router.ts';
import './styles.css';

createApp(App).use(createConsoleRouter()).mount('#app');
