namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>The repository the tests were built from: the Docker build context and the deployment files.</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The folder holding Socks5UdpRelay.sln (and the Dockerfile): the Docker build context.</summary>
    public static string Root => s_root.Value;

    public static string Dockerfile => Path.Combine(Root, "Dockerfile");

    public static string ComposeFile => Path.Combine(Root, "config", "docker-compose.yml");

    public static string AppSettings => Path.Combine(Root, "config", "appsettings.json");

    public static string Kubernetes(string file) => Path.Combine(Root, "config", "kubernetes", file);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Socks5UdpRelay.sln")) && File.Exists(Path.Combine(directory.FullName, "Dockerfile")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Socks5UdpRelay.sln with a Dockerfile above {AppContext.BaseDirectory}.");
    }
}
