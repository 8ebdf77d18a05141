using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>The small YAML reader the manifest tests stand on: what it reads, and what it refuses instead of misreading.</summary>
public sealed class YamlTests
{
    [Fact]
    public void Reads_MappingsSequencesQuotesFlowListsCommentsAndDocuments()
    {
        var documents = Yaml.ParseAll("""
            # comment
            a: 1 # trailing
            b:
              - name: x
                port: "80"
              - 'it''s'
            c: ["CMD", "dotnet", x.dll]
            d:
            - same-indent
            e: "a # not a comment: ${X:?y}"
            ---
            f: g
            """);

        Assert.Equal(2, documents.Count);
        var first = documents[0];
        Assert.Equal(1, first["a"].Int);
        Assert.Equal("x", first["b"][0]["name"].Text);
        Assert.Equal("80", first["b"][0]["port"].Text);
        Assert.Equal("it's", first["b"][1].Text);
        Assert.Equal(["CMD", "dotnet", "x.dll"], first["c"].Items.Select(i => i.Text));
        Assert.Equal("same-indent", first["d"][0].Text);
        Assert.Equal("a # not a comment: ${X:?y}", first["e"].Text);
        Assert.Equal("g", documents[1]["f"].Text);
    }

    [Theory]
    [InlineData("a: |\n  text")]
    [InlineData("a: {b: c}")]
    [InlineData("a: &anchor x")]
    [InlineData("a: 1\na: 2")]
    [InlineData("a:\n  b: 1\n c: 2")]
    public void Refuses_WhatItDoesNotSupport(string text)
    {
        Assert.Throws<FormatException>(() => Yaml.ParseAll(text));
    }
}
