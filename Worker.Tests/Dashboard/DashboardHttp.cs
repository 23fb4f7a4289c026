using System.Net;
using System.Text.RegularExpressions;

namespace JobWorker.Tests.Dashboard;

/// <summary>An operator's browser reduced to HTTP: a cookie jar, no redirects followed, and forms posted with their antiforgery field.</summary>
internal sealed partial class DashboardHttp : IDisposable
{
    private readonly HttpClient _http;

    public DashboardHttp(int port)
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false })
        {
            BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(20),
        };
    }

    public Uri BaseAddress { get; }

    public CookieContainer Cookies { get; } = new();

    public HttpClient Client => _http;

    /// <summary>The session cookie as the browser holds it now, or null.</summary>
    public Cookie? Session => Cookies.GetCookies(new Uri(BaseAddress, "/dashboard/"))["jobworker-dashboard"];

    /// <summary>Posts a form as a page would: with the antiforgery field from the sign-in page and its cookie.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string>? fields = null)
    {
        fields ??= [];
        var page = await _http.GetStringAsync("/dashboard/login");
        fields["__antiforgery"] = WebUtility.HtmlDecode(AntiforgeryField().Match(page).Groups[1].Value);
        return await _http.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    public Task<HttpResponseMessage> SignInAsync(string token) =>
        PostFormAsync("/dashboard/login", new() { ["token"] = token, ["returnTo"] = "/dashboard/" });

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("name=\"__antiforgery\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
