namespace Socks5UdpRelay.Server.Tests.Infrastructure;

/// <summary>
/// The name of the assembly this project builds: the environment-dependent test attributes name
/// their discoverer by assembly, and their source is linked into several test projects, so each
/// project says which assembly it is (xunit drops a test whose discoverer it cannot load, silently).
/// </summary>
internal static class TestAssembly
{
    public const string Name = "Socks5UdpRelay.Server.Tests";
}
