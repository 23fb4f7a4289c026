namespace JobWorker.Tests;

/// <summary>Where `make sample` leaves a sample's build: samples/&lt;name&gt;/bin/&lt;the tests' configuration&gt;/net10.0.</summary>
internal static class SampleBuild
{
    public static string Assembly(string sample, string fileName)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "JobWorker.sln")))
        {
            root = root.Parent;
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0
        return Path.Combine(root!.FullName, "samples", sample, "bin", configuration, "net10.0", fileName);
    }
}
