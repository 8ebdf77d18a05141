namespace Socks5UdpRelay.Server.Tests.Fixtures;

/// <summary>
/// Programs this test project builds first (ProjectReference with ReferenceOutputAssembly=false)
/// and runs as processes: their dll in the same configuration as these tests.
/// </summary>
internal static class BuiltPrograms
{
    /// <summary>s5nc, the CLI.</summary>
    public static string CliDll => Output("src", "Socks5UdpRelay.Cli", "s5nc.dll");

    /// <summary>The load tool.</summary>
    public static string LoadToolDll => Output("tests", "Socks5UdpRelay.Benchmarks", "Socks5UdpRelay.Benchmarks.dll");

    private static string Output(string folder, string project, string dll)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory); // tests/Socks5UdpRelay.Server.Tests/bin/<Configuration>/<tfm>/
        var root = dir.Parent!.Parent!.Parent!.Parent!.Parent!;
        return Path.Combine(root.FullName, folder, project, "bin", dir.Parent.Name, dir.Name, dll);
    }
}
