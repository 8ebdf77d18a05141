namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>What <c>s5nc doctor</c> was asked to test, from its options.</summary>
internal sealed record DoctorRequest
{
    /// <summary>--target: an echo or any UDP service that answers.</summary>
    public DoctorTarget? Target { get; init; }

    /// <summary>--dns: a DNS server, sent a real query.</summary>
    public DoctorTarget? Dns { get; init; }

    /// <summary>--closed: a port known to be closed, which a server with notices reports.</summary>
    public DoctorTarget? Closed { get; init; }

    /// <summary>--stun: a STUN server with two addresses, for the NAT stage.</summary>
    public DoctorTarget? Stun { get; init; }

    /// <summary>--idle: a quiet period the association must survive; null skips the stage.</summary>
    public TimeSpan? Idle { get; init; }

    /// <summary>--timeout: the bound on the whole run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(DoctorCommand.DefaultTimeoutSeconds);

    public bool Json { get; init; }
}
