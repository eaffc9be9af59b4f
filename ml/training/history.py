"""The model's development history, round by round, as the model card prints it.

Rounds 1-5 trained on MIT-BIH DS1 alone (protocol v1); round 6 is the first under protocol v2.
"""

from __future__ import annotations

ROUNDS_1_TO_5: list[str] = [
    "Round 1 (DS1 CV only): the window held the beat alone and the features lacked the "
    "P-region correlation and RR_i/RR_(i-1); best CV objective -0.38 (V +P 78 %, S +P 26 %).",
    "Round 2 (the design still used): window = beat + (beat - record median beat), 15 features; "
    "class-weight power 0.5/0.75/1.0 and 8/16/24 epochs compared on the same folds.",
    "DS2 was evaluated once, after the round-2 configuration was fixed.",
    "Round 3: robust patient normalisation for S beats. The template (median "
    "beat) is taken only from beats that are not premature (RR before >= 0.9 x record median "
    "RR); the 5-minute RR reference is a median instead of a mean; two features were added: "
    "RR / whole-record median RR and AF context (median |successive RR difference| / median "
    "RR over ~60 beats); and the decision rule may turn S into N where that AF context is "
    "high (AAMI labels beats in atrial fibrillation N), one function (ml.classifier."
    "decide_beats) used by training, evaluation and the portal's analysis. The same class-"
    "weight / epoch grid was rerun and the AF threshold (or off) tuned with the S/V bias, all "
    "on the same DS1 grouped-CV folds. Best CV objective: round 2 -0.189 (S Se 69.8 %, "
    "S +P 20.2 %, V Se 88.0 %, V +P 91.3 %, accuracy 90.9 %); round 3 +0.080 (cv_table). "
    "A second round-3 variant, template reference = 0.9 x the record's 75th-percentile RR, "
    "was run through the same CV grid and scored lower (best +0.053), so it was dropped. "
    "The training command also reports DS2 after its CV, so DS2 of the kept variant was "
    "printed before the other variant's CV had finished; the choice between them was made "
    "on the DS1 CV objective alone.",
    "Honesty note: the team had seen round 2's DS2 results, including per-record results, "
    "before round 3 was designed. Round 3 targets failure modes known from the literature "
    "and visible in DS1, and every choice was made on DS1 CV only, but DS2 is no longer a "
    "pristine, untouched test set: treat the DS2 figures in this card as optimistic, and a "
    "fresh external database as the real test.",
    "Outcome of round 3 on DS2: accuracy rose (88.7 -> 91.8 %) but S Se fell (20.5 -> "
    "13.4 %), S +P rose (11.1 -> 21.3 %) and V +P fell (93.5 -> 81.1 %). The large DS1 CV "
    "gain did not carry over: 22 DS1 records (two with AF) are too few to choose features and "
    "a decision rule that transfer to other patients.",
    "Round 4 (version 1.1): the rhythm reference is the patient's sinus cycle, "
    "estimated as the 80th percentile of RR over 5 minutes and over the whole record, in "
    "place of local means and medians; local-mean-normalised features were removed. Reason: "
    "ectopic beats only shorten intervals, so the long end of the RR distribution stays sinus "
    "even when most beats are ectopic, whereas a mean or median adopts the ectopic rate as "
    "'normal' and hides the ectopy (frequent atrial ectopy, runs, sick sinus with ectopic "
    "escape). DS1 has no ectopic-dominant record, so this could not be chosen by DS1 CV: it "
    "was decided a priori, from clinical reasoning and from the public MIT-BIH record "
    "descriptions, which list ectopic-dominant rhythms among the DS2 records; this is "
    "knowledge about the test set and is disclosed as such. The template threshold became "
    "pre-RR >= 0.85 x sinus cycle; the AF context became the smallest median |RR_i - "
    "RR_(i-lag)| over lags 1-3 (bigeminy and trigeminy repeat, AF does not). Percentile (80), "
    "template threshold (0.85) and lags were fixed before any run and not varied. The "
    "candidate grid, epochs, S/V bias and AF threshold were chosen by the same DS1 grouped CV "
    "as before; DS2 was predicted once, afterwards.",
    "Round 4 was shipped by a decision written down before its DS2 figures existed: DS1 CV "
    "rated it below round 3 (best objective -0.027 against +0.080, within the single-seed "
    "noise), but DS1 cannot test what it was built for, and picking between rounds 3 and 4 "
    "after seeing both on DS2 would have been model selection on DS2. No further round "
    "followed its DS2 result in that session.",
    "Round 5 (this model, version 1.2), two changes decided together, before any round-5 "
    "result existed. (1) Each model is the average of 3 networks trained from different "
    "seeds (ENSEMBLE_MEMBERS; the same architecture, inputs and candidate grid as round 4). "
    "Reason: variance. Rerunning round 4's single-seed CV on this machine gave different "
    "out-of-fold figures (oneDNN kernels differ by CPU), and neighbouring epochs and weights "
    "disagreed by 20-30 points of S Se: a single network's S calls are partly luck. (2) S -> N "
    "suppression now needs absent P waves as well as patternless RR irregularity: P-wave "
    "consistency (ml.atrial.p_wave_consistency over 32 beats, every beat taking part, "
    "computed in ml.features.beat_inputs) below a threshold chosen with the S/V bias and the "
    "RR threshold on the same DS1 grouped CV (grid 0.2/0.3/0.4/0.5 or RR alone; ties go to "
    "the P-gated rule; the CV table keeps the best RR-only rule of each row as an ablation). "
    "Reason: round 4's stated limitation - RR irregularity alone also marks frequent atrial "
    "ectopy and pauses, which keep their P waves, so their S beats were hidden; the rhythm "
    "analysis already required absent P waves for AF, and the beat rule now uses the same "
    "definition. These ideas were written down after round 4's pooled DS2 figures (S Se "
    "51.9 %) were known, which is knowledge of DS2 and is disclosed; no per-record DS2 "
    "result was looked at for them. Committed before the round-5 DS2 run: round 5 ships "
    "whatever DS2 shows, and no further round follows it.",
    "Outcome of round 5 on DS2 (predicted once, after that commit): S Se rose 51.9 -> 67.4 % "
    "and S +P fell 61.0 -> 56.2 %; V Se stayed 93.4 -> 93.5 % while V +P fell 91.8 -> 78.8 % "
    "(750 N beats called V, against 189); accuracy 94.6 -> 93.2 %. On DS1 CV the P gate beat "
    "the RR-only rule in every row (objective +0.014 to +0.033), and the ensembles scored "
    "below round 4's single networks (best -0.136 against -0.027; but a single-network rerun "
    "on this machine, even with the wider round-5 rule grid, scored -0.111 where round 4 had "
    "-0.038, so that comparison is mostly machine noise). As committed, round 5 ships "
    "although it trades a passing V +P for a nearer S Se: going back to round 4 on DS2's "
    "word would be model selection on DS2.",
]

ROUND_6: list[str] = [
    "Round 6 (version 2.0, protocol v2), decided and committed before any round-6 result: "
    "training and selection data became MIT-BIH DS1 plus the 39 svdb patients (128 Hz, two "
    "unnamed Holter leads); every record contributes both leads as separate examples, each "
    "clean and once augmented (random gain 0.5-2x, nstdb baseline wander at 0-12 dB and "
    "electrode-motion or muscle noise at 6-24 dB SNR); training keeps every S, V, F and Q beat "
    "and 30 % of the normal beats; each model averages 2 networks from different seeds. "
    "Candidates (class-weight power 0.5 or 1.0) x epochs (4, 8, 12) x lead combination "
    "(preferred lead alone, or the mean of both leads) were compared by 5-fold cross-"
    "validation grouped by patient across both databases, with the S/V bias and AF "
    "suppression tuned out of fold; the objective is the shortfall below the svdb floors on "
    "svdb plus the shortfall below the DS2 floors on DS1. The features and network are those "
    "of round 5. Committed before the round-6 DS2 run: the best CV row ships whatever DS2 "
    "shows, and no further round follows it in that session.",
]

ROUND_7: list[str] = [
    "Round 7 (decided and committed after round 6's cross-validation, before any round-6 or "
    "round-7 DS2 figure existed; this replaces round 6's 'no further round' commitment, whose "
    "purpose - no choice with DS2 in view - it keeps). Round 6's out-of-fold table met the "
    "svdb S floors but missed svdb V Se by 13-20 points, mostly ventricular beats called S "
    "(656 of 3,408 at 8 epochs), and scored best at its first checkpoint (4 epochs). Round 7 "
    "adds three features that separate ventricular from atrial beats against the patient's "
    "dominant beat: QRS width (time beyond half the QRS peak), QRS area, and T-region "
    "correlation (a ventricular beat's T wave is discordant); candidates w0.5+morph and "
    "w1.0+morph with checkpoints at 3, 6 and 9 epochs, everything else as round 6. The "
    "shipped model is the best row of the combined round-6 and round-7 table (same folds, "
    "same objective); it ships whatever DS2 then shows, and no round 8 follows in this "
    "session.",
    "Outcome of round 7 (the cross-validation, then DS2 predicted once): the best row of the "
    "combined table is w1.0+morph at 3 epochs with the mean of both leads (objective -0.031; "
    "round 6's best, w0.5 at 4 epochs with both leads, -0.079). The mean of both leads beat "
    "the preferred lead alone for every candidate and epoch, and all four candidates "
    "scored best at their first checkpoint. Out of fold, end to end, svdb: S Se 79.2 / +P "
    "63.0, V Se 77.7 / +P 84.0, accuracy 94.9 - the S floors and accuracy are met; V Se "
    "misses by 12.3 points (452 of 3,408 ventricular beats called S, 202 called N) and V +P "
    "by 1.0. DS2 met every floor, at the reference peaks (S 81.5/60.6, V 95.3/98.3, "
    "accuracy 94.5) and end to end. DS2 scores above svdb out of fold: the other recorder's "
    "leads at 128 Hz make ventricular beats harder to tell from atrial ones, and svdb is "
    "what the external patients resemble.",
]

ROUND_8: list[str] = [
    "Round 8 (decided and committed after round 7's DS2 figures, before any round-8 figure): "
    "two changes aimed at the svdb ventricular misses, chosen by the same 5-fold CV grouped "
    "by patient, the same folds and the same objective. (1) The decision rule may damp "
    "fusion (F): an F log-bias of 0, -1, -2 or -4 joins the S/V bias and AF-suppression "
    "grid. F has no floor and few training beats, and round 7's F calls were almost all "
    "wrong out of fold (+P 0.5 % on svdb, 2 % on DS1), among them about 90 svdb and 120 DS1 "
    "ventricular beats; the rhythm analysis also counts F calls in ventricular runs. (2) "
    "Earlier stopping: rounds 6 and 7 scored best at their first checkpoints, so the two "
    "round-7 candidates are also trained for 1 and 2 epochs (w0.5+morph-early, "
    "w1.0+morph-early). The best row of the combined round-6/7/8 table is fitted on all "
    "training patients and ships whatever DS2 then shows (DS2 predicted once, after), and no "
    "round 9 follows in this session.",
    "Outcome of round 8 (the cross-validation, then DS2 predicted once): the best row is "
    "again w1.0+morph at 3 epochs with both leads averaged, now with an F log-bias of -4 "
    "(objective -0.018 against round 7's -0.031): svdb out of fold at the reference R peaks V "
    "Se 80.3 -> 81.9, V +P 83.6 -> 83.2, S unchanged; DS1 V Se 91.3 -> 94.3. The early "
    "candidates did not win (best -0.038, w1.0+morph-early at 2 epochs). F is now almost "
    "never called (out of fold 0.5 % of DS1 fusion beats; none on DS2), so fusion beats are "
    "read as N or V. The final refit was not bit-identical to round 7's (0, 4 and 13 calls "
    "differ on DS1 101 and 119 and svdb 801 beyond the F rule). DS2 met every floor (S "
    "83.0 / 55.2, V 97.8 / 98.1, accuracy 95.9 at the reference peaks); svdb V Se still "
    "misses by about 11 points end to end.",
]

ROUND_9: list[str] = [
    "Round 9 (decided and committed after round 8's figures and the exploration of lead "
    "combinations that followed it, before any round-9 figure): the network sees both leads "
    "of a beat at once. Each lead's inputs also carry the other lead's eight shape features "
    "against that lead's own dominant beat (QRS and window correlation, RMS difference, QRS "
    "amplitude, P-region correlation, QRS width, QRS area, T-region correlation; "
    "ml.features.with_other_lead); a single-lead recording repeats its own, and the augmented "
    "training rows carry their own there, so that the network also learns that case. Reason: "
    "in svdb 841 and 868 one lead calls the ventricular beats V and the other S or N, and "
    "every rule on the two leads' outputs lost to their mean (the larger V probability, the "
    "geometric mean, a fitted combination), so the network must see what the other lead "
    "shows. One candidate, w1.0+morph+other-lead (otherwise the shipped w1.0+morph), with "
    "checkpoints at 2, 3 and 4 epochs and the preferred lead alone or both averaged, against "
    "the shipped w1.0+morph rerun on the same folds (round 8's saved folds did not survive a "
    "move to another machine; rounds 6-8's other candidates lost to it on these folds), by "
    "the same objective and decision-rule grid. The new candidate ships only if its best "
    "row's objective is higher; DS2 is then predicted once, after, and reported whatever it "
    "shows, and no round 10 follows in this session.",
    "Outcome of round 9 (the cross-validation only; nothing shipped, so DS2 was not "
    "predicted): the new candidate lost. Its best row, 4 epochs with both leads averaged, "
    "scored -0.108 against -0.059 for the shipped w1.0+morph rerun on the same folds (3 "
    "epochs, both leads averaged); svdb at the reference R peaks V Se 74.7 / +P 84.7 against "
    "77.5 / 84.2, DS1 V Se 95.3 / +P 85.9 against 94.2 / 88.5. It did not reach the "
    "patients it was for: svdb 841 232 of 254 ventricular beats missed (234 without the "
    "other lead's features), 868 356 of 555 (241). The shipped model stays beat-cnn 2.1. "
    "The rerun itself is the other finding: the same candidate, seeds and folds scored "
    "-0.059 on this machine against round 8's -0.018 (svdb V Se 77.5 against 81.9). A fold "
    "retrained here gives identical probabilities, so this is not run-to-run noise but the "
    "machine (or rounding-level changes in the feature code since round 8). Seeds move it as "
    "much: the same candidate with seed 1 (its augmentation and initial weights) scored "
    "-0.111 at its best row (6 epochs, both leads; svdb V Se 77.2 / +P 85.7), so round 9's "
    "gap (-0.108 against -0.059) is within one candidate's spread across seeds, as were the "
    "gaps that chose rounds 7 and 8. A next round should compare candidates over several "
    "seeds; svdb V Se stayed at 77-78 % in every run here.",
]
