import { describe, expect, it } from 'vitest';
import { analysesFromPreferences, analysisPreferences, resolveAnalyses } from './analyses.js';

describe('analyses', () => {
  it("reads a home server's choice from Preferences.xml, Plex's defaults where it is silent", () => {
    // Preferences.xml only holds what differs from the defaults.
    expect(analysesFromPreferences(new Map())).toEqual({
      deepMediaAnalysis: true,
      previewThumbnails: false,
      chapterThumbnails: true,
      introMarkers: true,
      creditsMarkers: true,
      loudness: true,
      sonic: true,
    });
    const home = new Map([
      ['GenerateBIFBehavior', 'scheduled'],
      ['ButlerTaskDeepMediaAnalysis', '0'],
      ['LoudnessAnalysisBehavior', 'never'],
      ['MusicAnalysisBehavior', 'asap'],
    ]);
    expect(analysesFromPreferences(home)).toMatchObject({ previewThumbnails: true, deepMediaAnalysis: false, loudness: false, sonic: true });
  });

  it('turns a choice into the real settings: on is asap, off is never, a Butler switch follows its task', () => {
    const chosen = resolveAnalyses({ previewThumbnails: true, loudness: false, sonic: false });
    expect(analysisPreferences(chosen)).toEqual({
      ButlerTaskDeepMediaAnalysis: true,
      GenerateBIFBehavior: 'asap',
      ButlerTaskGenerateMediaIndexFiles: true,
      GenerateChapterThumbBehavior: 'asap',
      GenerateIntroMarkerBehavior: 'asap',
      GenerateCreditsMarkerBehavior: 'asap',
      LoudnessAnalysisBehavior: 'never',
      MusicAnalysisBehavior: 'never',
    });
  });
});
