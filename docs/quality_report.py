"""Reproduces the quality report: every number and the plot in docs/quality/.

1. The bundled models as they ship (`muse-tf eval` defaults): fashion_32
   (100 images per class) and the emoji_128 cascade (every emoji the judge
   knows, with training-style prompts, paraphrases and synonyms; FID
   against the held-out 128-pixel emoji). Each also judges real held-out
   and training images (as many, evenly spaced) and their round trips
   through the model's last VQGAN: the tokenizers' table.
2. MaskGIT's decoding ablation (its Table 3 and Fig. 3) and Muse's guidance
   ablation, each setting changed alone from the model's own defaults (its
   config's sampler): every mask schedule; 4, 8, 12 and 24 steps; guidance
   0, constant, rising linearly (to the default scale); cosine and linear
   schedules with guidance 0; and the defaults with a second seed, how far
   two runs of one setting differ; the Halton order of unmasking
   (Besnier et al. 2025; `--unmask-order halton`) against the confidence
   order at 4, 8, 12, 16 and 32 steps (halton.png, as MaskGIT's Fig. 3).
   For fashion_32 also bf16 against fp32 at two seeds each (the
   ablation otherwise runs in fp32, the precision its numbers were first
   measured in; docs/design.md §11). On two
   models: fashion_32 (class-conditional, like MaskGIT's ImageNet table;
   100 images per class for class fidelity, and for FID against 1,000 test
   images) and emoji_64 (the base stage of the bundled cascade, the stage
   the mask and guidance schedules drive; prompt fidelity on
   training-style prompts for `--ablation-classes` evenly spaced emoji;
   FID of images generated for the captions of half the 950 held-out
   64-pixel emoji against the other half).

Results go to `--output-dir` as results.json, one entry per run, written
after each run; a rerun skips the runs already there, so a killed report
resumes. Then quality.md (tables) and ablation.png (plot) are written from
it; `--report-only` rewrites just those.

Needs the data: `muse-tf prepare-data && muse-tf prepare-data --config
full_128` and `apt-get install dataset-fashion-mnist`; and matplotlib
(`pip install -e ".[docs]"`).

  python docs/quality_report.py   # 2 cores: about 4 h (fashion_32's
                                  # runs 1 h 15 min, emoji_64's 1 h 30 min,
                                  # emoji_128 1 h 15 min)
"""

import argparse
import json
import os

import tensorflow as tf

import muse_tf
from muse_tf import quality
from muse_tf.configs import SCHEDULES
from muse_tf.pipeline import MusePipeline
from muse_tf.presets import JUDGES, get_config

ABLATION_MODELS = ("fashion_32", "emoji_64")
SETTINGS = ("schedule", "num_steps", "guidance_scale", "guidance_schedule")
# Settings a run's key names only where they differ from these.
EXTRAS = {"seed": 0, "unmask_order": "confidence", "mask_count_rule": "maskgit",
          "precision": "fp32"}
HALTON = {"unmask_order": "halton", "mask_count_rule": "halton",
          "schedule": "arccos"}
HALTON_STEPS = (4, 8, 12, 16, 32)

# The ablation: {group: {label: the settings it changes from the default}}.
GROUPS = {
    "mask schedule": {s: {"schedule": s} for s in SCHEDULES},
    "decoding steps": {str(n): {"num_steps": n} for n in (4, 8, 12, 24)},
    "guidance": {"0": {"guidance_scale": 0.0},
                 "constant": {"guidance_schedule": "constant"},
                 "rising": {"guidance_schedule": "linear"}},
    # Cosine against linear with guidance off: whether the rising guidance
    # is what sets the two schedules apart.
    "schedule, guidance 0": {
        "cosine": {"guidance_scale": 0.0},
        "linear": {"schedule": "linear", "guidance_scale": 0.0}},
    # The defaults again with another seed (other images, other real
    # halves): how far apart two runs of one setting land.
    "seed": {"0": {}, "1": {"seed": 1}},
    "steps, confidence order": {str(n): {"num_steps": n}
                                for n in HALTON_STEPS},
    "steps, Halton order": {str(n): {"num_steps": n, **HALTON}
                            for n in HALTON_STEPS},
    "precision": {"fp32, seed 0": {}, "fp32, seed 1": {"seed": 1},
                  "bf16, seed 0": {"precision": "bf16"},
                  "bf16, seed 1": {"precision": "bf16", "seed": 1}},
}
# The groups halton.png plots, not ablation.png.
HALTON_GROUPS = ("steps, confidence order", "steps, Halton order")
# Groups run on fashion_32 only.
FASHION_ONLY = ("precision",)


def groups_of(model):
    """{group: runs} of the ablation of `model`."""
    return {group: runs for group, runs in GROUPS.items()
            if model == "fashion_32" or group not in FASHION_ONLY}


def default_settings(model):
    """The decoding settings a bundled model ships with: its config's
    sampler (a cascade's: the base stage's)."""
    sampler = get_config(model).sampler.to_dict()
    return {k: sampler[k] for k in SETTINGS}


def run_key(model, changes):
    """results.json key of an ablation run: the model and its full
    settings (and each of EXTRAS that is not its default), so the default
    (in every group) runs once."""
    settings = {**default_settings(model), **changes}
    extras = "".join(f",{k}={changes[k]}" for k, default in EXTRAS.items()
                     if changes.get(k, default) != default)
    return f"ablation:{model}:" + ",".join(
        f"{k}={settings[k]}" for k in SETTINGS) + extras


def fidelity(report):
    """A report's fidelity: class fidelity, or prompt fidelity on
    training-style prompts."""
    if "class_fidelity" in report:
        return report["class_fidelity"]
    return report["prompt_fidelity"]["training_prompts"]


def run_shipped(name, fid_features, args):
    pipe = muse_tf.load_pipeline(name, precision="fp32")
    judge, real = JUDGES[name]
    report, grid = quality.evaluate(pipe, judge, real, per_class=100,
                                    batch_size=args.batch_size,
                                    fid_features=fid_features)
    tf.io.write_file(os.path.join(args.output_dir, f"{name}_grid.png"),
                     tf.io.encode_png(grid))
    return report


def run_ablation(model, changes, pipe, fid_features, args):
    judge, real = JUDGES[model]
    settings = {**default_settings(model), **EXTRAS, **changes}
    pipe = MusePipeline(pipe.config, pipe.components, pipe.conditioner,
                        settings["precision"]).with_sampler(
        schedule=settings["schedule"],
        guidance_schedule=settings["guidance_schedule"],
        unmask_order=settings["unmask_order"],
        mask_count_rule=settings["mask_count_rule"])
    report, _ = quality.evaluate(
        pipe, judge, real, seed=changes.get("seed", 0), per_class=100,
        num_classes=args.ablation_classes,
        prompt_sets=("training_prompts",), batch_size=args.batch_size,
        fid_features=fid_features, num_steps=settings["num_steps"],
        guidance_scale=settings["guidance_scale"])
    return report


def ablation_runs(results, model, runs):
    """{label: report} of one group's runs of `model` that are done."""
    return {label: results[run_key(model, c)] for label, c in runs.items()
            if run_key(model, c) in results}


def percent(report, key):
    """A report's share as a percentage, or a dash where the report has
    none (results written before the report measured it)."""
    value = report.get(key)
    return "—" if value is None else f"{value:.1%}"


def kept(report, suffix):
    """The share of the judge's accuracy on real images (held-out: suffix
    "", training: "_train") that it keeps on their VQGAN round trips, from
    the two accuracies (so older results without the ratio show it too),
    or a dash."""
    real = report.get(f"judge_real{suffix}_accuracy")
    trip = report.get(f"judge_vqgan_round_trip{suffix}_accuracy")
    return "—" if not real or trip is None else f"{trip / real:.1%}"


def tokenizer_table(results):
    """Markdown lines: what the tokenizer of each model in the report (its
    last VQGAN, which the round trips go through) keeps of real held-out
    and training images in the judge's eyes, from the shipped runs and
    emoji_64's default ablation run."""
    runs = {"shipped:fashion_32": ("fashion_32", "VQGAN"),
            run_key("emoji_64", {}): ("emoji_64", "base VQGAN"),
            "shipped:emoji_128": ("emoji_128", "high-res VQGAN")}
    rows = [(name, results[key]) for key, name in runs.items()
            if key in results]
    if not rows:
        return []
    lines = [
        "## Tokenizers", "",
        ("The judge's accuracy on real images and on their round trip "
         "through the model's last VQGAN (encoded and decoded), on held-out "
         "and on training images (the images whose tokens the transformer "
         "learned to reproduce); kept: round trip over real. A "
         "tokenizer should keep at least 90% on both."), "",
        ("| model | VQGAN | held-out: real | round trip | kept | "
         "training: real | round trip | kept | training images |"),
        "|---|---|---|---|---|---|---|---|---|"]
    for (model, vqgan), report in rows:
        lines.append(
            f"| {model} | {vqgan} | "
            f"{percent(report, 'judge_real_accuracy')} | "
            f"{percent(report, 'judge_vqgan_round_trip_accuracy')} | "
            f"{kept(report, '')} | "
            f"{percent(report, 'judge_real_train_accuracy')} | "
            f"{percent(report, 'judge_vqgan_round_trip_train_accuracy')} | "
            f"{kept(report, '_train')} | "
            f"{report.get('real_train_selection', '—')} |")
    return lines + [""]


def write_tables(results, path):
    lines = ["# Quality report", "",
             ("Written by `python docs/quality_report.py` (see its "
             "docstring); numbers from results.json."), ""]
    fashion = results.get("shipped:fashion_32")
    if fashion:
        lines += [
            "## fashion_32 (class-conditional)", "",
            ("| images | class fidelity | judge on real test images | "
             "judge on their VQGAN round trip | FID | FID of two real halves "
             "| FID / floor | FID of the VQGAN round trip |"),
            "|---|---|---|---|---|---|---|---|",
            (f"| {fashion['images']} | {fashion['class_fidelity']:.1%} | "
             f"{fashion['judge_real_accuracy']:.1%} | "
             f"{fashion['judge_vqgan_round_trip_accuracy']:.1%} | "
             f"{fashion['fid']:.2f} | {fashion['fid_real_halves']:.2f} | "
             f"{fashion['fid_over_floor']:.2f} | "
             f"{fashion['fid_vqgan_round_trip']:.2f} |"), ""]
    emoji = results.get("shipped:emoji_128")
    if emoji:
        lines += [
            "## emoji_128 (the bundled cascade)", "",
            "| prompts | images | prompt fidelity |", "|---|---|---|"]
        lines += [f"| {k} | {emoji['images'][k]} | {v:.1%} |"
                  for k, v in emoji["prompt_fidelity"].items()]
        lines += [
            "", (f"Judge on the held-out real emoji: "
                 f"{emoji['judge_real_accuracy']:.1%}; on them after the "
                 f"high-res VQGAN's round trip: "
                 f"{emoji['judge_vqgan_round_trip_accuracy']:.1%}. FID "
                 f"{emoji['fid']:.1f} on {emoji['images']['fid']} images; "
                 f"two real halves {emoji['fid_real_halves']:.1f}; ratio "
                 f"{emoji['fid_over_floor']:.2f}; the high-res VQGAN's round "
                 f"trip of real images {emoji['fid_vqgan_round_trip']:.1f}."),
            ""]
    lines += tokenizer_table(results)
    for model in ABLATION_MODELS:
        groups = {group: ablation_runs(results, model, runs)
                  for group, runs in groups_of(model).items()}
        groups = {group: done for group, done in groups.items() if done}
        if not groups:
            continue
        defaults = default_settings(model)
        some = next(iter(next(iter(groups.values())).values()))
        asked = some["images"]
        asked = asked["training_prompts"] if isinstance(asked, dict) else asked
        lines += [
            f"## Decoding ablation: {model}", "",
            (f"Each setting changed alone from the defaults: "
             f"{defaults['schedule']} schedule, {defaults['num_steps']} "
             f"steps, guidance {defaults['guidance_scale']} "
             f"({defaults['guidance_schedule']}). {asked} images for "
             f"fidelity (the judge: {some['judge_real_accuracy']:.1%} on "
             f"held-out real images, "
             f"{some['judge_vqgan_round_trip_accuracy']:.1%} on their VQGAN "
             f"round trip); FID of the generated images "
             f"against as many held-out real ones (two real halves: "
             f"{some['fid_real_halves']:.1f})."), ""]
        for group, done in groups.items():
            lines += [f"| {group} | fidelity | FID | FID / floor |",
                      "|---|---|---|---|"]
            lines += [f"| {label} | {fidelity(r):.1%} | {r['fid']:.1f} | "
                      f"{r['fid_over_floor']:.2f} |"
                      for label, r in done.items()]
            lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plotted = [group for group in GROUPS
               if group not in FASHION_ONLY + HALTON_GROUPS]
    figure, axes = plt.subplots(
        len(ABLATION_MODELS), len(plotted),
        figsize=(4 * len(plotted), 3.6 * len(ABLATION_MODELS)),
        squeeze=False)
    for row, model in zip(axes, ABLATION_MODELS):
        for axis, group in zip(row, plotted):
            runs = GROUPS[group]
            done = ablation_runs(results, model, runs)
            if not done:
                axis.set_visible(False)
                continue
            labels = list(done)
            axis.plot(labels, [100 * fidelity(done[k]) for k in labels],
                      "o-", color="tab:blue")
            axis.set_ylabel("fidelity (%)", color="tab:blue")
            twin = axis.twinx()
            twin.plot(labels, [done[k]["fid"] for k in labels], "s--",
                      color="tab:red")
            twin.set_ylabel("FID", color="tab:red")
            axis.set_title(f"{model}: {group}")
            axis.tick_params(axis="x", rotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_halton(results, path):
    """Each ablation model's FID and fidelity against decoding steps, in
    the confidence order and the Halton order (as MaskGIT's Fig. 3): one
    row a model."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(ABLATION_MODELS), 2,
                                figsize=(9, 3.6 * len(ABLATION_MODELS)),
                                squeeze=False)
    for (fid_axis, fidelity_axis), model in zip(axes, ABLATION_MODELS):
        for group, style in zip(HALTON_GROUPS, ("o-", "s--")):
            done = ablation_runs(results, model, GROUPS[group])
            steps = [int(label) for label in done]
            label = group.removeprefix("steps, ")
            fid_axis.plot(steps, [r["fid"] for r in done.values()], style,
                          label=label)
            fidelity_axis.plot(
                steps, [100 * fidelity(r) for r in done.values()], style,
                label=label)
        for axis, name in ((fid_axis, "FID"), (fidelity_axis, "fidelity (%)")):
            axis.set_xscale("log", base=2)
            axis.set_xticks(HALTON_STEPS, [str(n) for n in HALTON_STEPS])
            axis.set_xlabel("decoding steps")
            axis.set_ylabel(name)
            axis.set_title(f"{model}: which masked tokens each step uncovers",
                           fontsize=9)
            axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="docs/quality")
    parser.add_argument("--ablation-classes", type=int, default=200,
                        help="emoji asked for in each ablation run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite quality.md and ablation.png from "
                        "results.json")
    args = parser.parse_args()
    os.makedirs(args.output_dir, exist_ok=True)
    results_path = os.path.join(args.output_dir, "results.json")
    results = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)
    if not args.report_only:
        from muse_tf.evaluate import FIDFeatures, MemoizedFeatures

        fid_features = MemoizedFeatures(FIDFeatures())
        # Cheapest first: the class model, then the emoji base stage's
        # ablation, then the whole cascade on every emoji.
        jobs = {"shipped:fashion_32": (run_shipped, ("fashion_32",))}
        for model in ABLATION_MODELS:
            jobs.update({run_key(model, changes): (run_ablation,
                                                   (model, changes))
                         for runs in groups_of(model).values()
                         for changes in runs.values()})
        jobs["shipped:emoji_128"] = (run_shipped, ("emoji_128",))
        # fashion_32 ships with its defaults: its ablation's default run is
        # the shipped run.
        shipped_default = run_key("fashion_32", {})
        pipelines = {}
        for key, (run, what) in jobs.items():
            if key in results:
                continue
            print(f"== {key}")
            if key == shipped_default:
                results[key] = results["shipped:fashion_32"]
            elif run is run_shipped:
                results[key] = run(*what, fid_features, args)
            else:
                model, changes = what
                if model not in pipelines:
                    pipelines = {model: muse_tf.load_pipeline(
                        model, precision="fp32")}
                results[key] = run(model, changes, pipelines[model],
                                   fid_features, args)
            with open(results_path, "w") as f:
                json.dump(results, f, indent=1)
    write_tables(results, os.path.join(args.output_dir, "quality.md"))
    plot(results, os.path.join(args.output_dir, "ablation.png"))
    plot_halton(results, os.path.join(args.output_dir, "halton.png"))
    print(f"wrote {args.output_dir}/quality.md, ablation.png and "
          f"halton.png")


if __name__ == "__main__":
    main()
