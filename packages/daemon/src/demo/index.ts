export { type DemoLog, type DemoOptions, demoPrerequisites, runDemo } from './demo.js';
