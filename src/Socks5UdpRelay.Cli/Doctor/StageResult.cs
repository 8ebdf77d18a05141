namespace Socks5UdpRelay.Cli.Doctor;

/// <summary>
/// One printed line of <c>s5nc doctor</c>: the verdict, what was seen, and what to change.
/// <paramref name="Facts"/> are extra machine-readable values for <c>--json</c> (e.g. <c>relay</c>, <c>mtu</c>).
/// </summary>
internal sealed record StageResult(
    DoctorStage Stage,
    Verdict Verdict,
    string Saw,
    string? Fix = null,
    FailureSide Side = FailureSide.None,
    IReadOnlyDictionary<string, object?>? Facts = null)
{
    /// <summary>True for the verdicts that make the exit code non-zero.</summary>
    public bool IsFailure => Verdict is Verdict.Fail or Verdict.Unknown;

    public static StageResult Ok(DoctorStage stage, string saw, IReadOnlyDictionary<string, object?>? facts = null)
        => new(stage, Verdict.Ok, saw, Facts: facts);

    public static StageResult Warn(DoctorStage stage, string saw, string? fix = null, IReadOnlyDictionary<string, object?>? facts = null)
        => new(stage, Verdict.Warn, saw, fix, Facts: facts);

    public static StageResult Fail(DoctorStage stage, FailureSide side, string saw, string? fix = null, IReadOnlyDictionary<string, object?>? facts = null)
        => new(stage, Verdict.Fail, saw, fix, side, facts);

    public static StageResult Unknown(DoctorStage stage, FailureSide side, string saw, string? fix = null)
        => new(stage, Verdict.Unknown, saw, fix, side);

    public static StageResult Skip(DoctorStage stage, string why, string? fix = null) => new(stage, Verdict.Skip, why, fix);
}
