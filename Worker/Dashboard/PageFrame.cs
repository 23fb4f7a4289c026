namespace JobWorker.Dashboard;

/// <summary>
/// What every dashboard page needs besides its own data: where the dashboard lives and what this visitor may do.
/// Public only because Razor components are; built by the dashboard alone.
/// </summary>
public sealed class PageFrame
{
    internal PageFrame(string basePath, string currentUrl, bool actionsEnabled, bool signedIn, string? notice, TimeSpan refresh)
    {
        BasePath = basePath;
        CurrentUrl = currentUrl;
        ReturnTo = currentUrl;
        ActionsEnabled = actionsEnabled;
        SignedIn = signedIn;
        Notice = notice;
        Refresh = refresh;
    }

    internal string BasePath { get; }

    internal string CurrentUrl { get; }

    internal bool ActionsEnabled { get; }

    internal bool SignedIn { get; }

    internal string? Notice { get; }

    internal TimeSpan Refresh { get; }

    internal bool CanAct => ActionsEnabled && SignedIn;

    /// <summary>Where a form on this page sends the operator back to: this page, or for the sign-in page the page it was opened from.</summary>
    internal string ReturnTo { get; init; }

    internal PageFrame WithReturnTo(string returnTo) => new(BasePath, CurrentUrl, ActionsEnabled, SignedIn, Notice, Refresh) { ReturnTo = returnTo };
}
