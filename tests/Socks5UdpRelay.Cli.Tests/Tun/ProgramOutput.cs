namespace Socks5UdpRelay.Cli.Tests.Tun;

/// <summary>What a program printed: compared whole between a direct run and one through the gateway.</summary>
internal sealed record ProgramOutput(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
