using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;

namespace JobWorker.Tests.Dashboard;

/// <summary>
/// Debian's Chromium driven by Playwright (no <c>playwright install</c>: downloads are impossible here). The browser is
/// started once for the fixture; each test gets a fresh context, so cookies (the sign-in) never leak between tests.
/// Screenshots go to <c>screenshots/</c> under the test output and are attached to the test.
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    /// <summary>Where the chromium package (installed by <c>make test</c>, deploy/local/browser.sh) puts the browser.</summary>
    public const string ChromiumPath = "/usr/lib/chromium/chromium";

    private readonly IPlaywright _playwright;

    private DashboardBrowser(IPlaywright playwright, IBrowser browser) => (_playwright, Browser) = (playwright, browser);

    public IBrowser Browser { get; }

    public static async Task<DashboardBrowser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Assert.Fail($"Chromium is not installed at {ChromiumPath}: run deploy/local/browser.sh (or the suite through `make test`, which does).");
        }

        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Timeout = 30_000 });
        return new DashboardBrowser(playwright, browser);
    }

    /// <summary>A fresh browser context (no cookies) whose actions and waits give up after 20 s.</summary>
    public async Task<IBrowserContext> NewContextAsync(string baseUrl)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(20_000);
        context.SetDefaultNavigationTimeout(20_000);
        return context;
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(TestContext.CurrentContext.TestDirectory, "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, name);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
