import { App } from 'cdk8s';
import { buildExampleApp } from './app';

buildExampleApp(new App()).synth();
