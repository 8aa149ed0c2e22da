// Karma for `ng test`: headless Debian Chromium (CHROME_BIN, default /usr/bin/chromium), no network of its own.
process.env.CHROME_BIN = process.env.CHROME_BIN || '/usr/bin/chromium';

module.exports = function (config) {
  config.set({
    basePath: '',
    frameworks: ['jasmine'],
    plugins: [
      require('karma-jasmine'),
      require('karma-chrome-launcher'),
      require('karma-jasmine-html-reporter'),
      require('karma-coverage'),
    ],
    client: {
      jasmine: { random: true },
      clearContext: false,
    },
    jasmineHtmlReporter: { suppressAll: true },
    coverageReporter: {
      dir: require('path').join(__dirname, './coverage'),
      subdir: '.',
      reporters: [{ type: 'html' }, { type: 'text-summary' }],
    },
    // In CI (and under pytest) one line per failure, without colours; at a desk the live progress and HTML report.
    reporters: process.env.CI ? ['dots'] : ['progress', 'kjhtml'],
    colors: !process.env.CI,
    customLaunchers: {
      // Root in a container needs --no-sandbox; the rest keeps Chromium off the (closed) network.
      ChromeHeadlessCI: {
        base: 'ChromeHeadless',
        flags: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      },
    },
    browsers: ['ChromeHeadlessCI'],
    // A loaded machine starts Chromium slowly and runs the bundle slowly: generous timeouts.
    captureTimeout: 180000,
    browserNoActivityTimeout: 300000,
    browserDisconnectTimeout: 60000,
    browserDisconnectTolerance: 1,
    restartOnFileChange: true,
  });
};
