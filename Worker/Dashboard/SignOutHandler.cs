using Microsoft.AspNetCore.Http;

namespace JobWorker.Dashboard;

/// <summary>Signing out ends the session on the server, so a copy of its cookie no longer acts.</summary>
internal static class SignOutHandler
{
    public static Task<IResult> HandleAsync(HttpContext context, DashboardAccess access) =>
        DashboardActions.RunAsync(context, signIn: false, _ =>
        {
            access.SignOut(context);
            return Task.FromResult(new Jobs.JobActionOutcome(true, "Signed out."));
        });
}
