"""GSM8K-style multi-step word problems, generated from a seed: the offline demo's math target set.

NOT GSM8K: no package available offline ships it, so the demo generates look-alikes (20 templates:
shopping, wages, speed, ages, discounts, fractions, clock time, geometry, savings, recipes, tanks, profit,
averages, ratios...). Solutions use GSM8K's calculator notation `a*b = <<a*b=c>>c` and end in
`#### <answer>`; every answer is a whole number.
"""

import ast
import math
import operator
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction

# fmt: off
NAMES = (
    "Ava", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Liam",
    "Maya", "Noah", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yusuf",
)
# fmt: on
ITEMS = ("notebook", "apple", "pen", "candle", "mug", "sticker", "lemon", "book")  # plurals add an s

# Ratios in lowest terms, as a textbook states them (2:6 reads as a trick question).
COPRIME_PAIRS = tuple((a, b) for a in range(1, 8) for b in range(1, 8) if a != b and math.gcd(a, b) == 1)


@dataclass(frozen=True)
class MathProblem:
    """One generated problem: `answer` is the number after '####', `params` the numbers it was drawn from."""

    item_id: str
    template: str
    question: str
    solution: str
    answer: int
    params: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return f"{self.question}\n{self.solution}"


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def evaluate(expression: str) -> Fraction:
    """The exact value of an arithmetic expression of integers, + - * / and parentheses."""

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"not a plain arithmetic expression: {expression!r}")

    return walk(ast.parse(expression, mode="eval").body)


class _Work:
    """Collects solution lines; each step computes its value, so text and answer cannot disagree."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, sentence: str, expression: str) -> int:
        value = evaluate(expression)
        # Templates pick their numbers so every step divides evenly; a fraction here is a template bug.
        assert value.denominator == 1, f"{expression} is not a whole number"
        self.lines.append(sentence.replace("{}", f"{expression} = <<{expression}={value}>>{value}"))
        return int(value)


# A template draws its numbers, records the solution steps in `w`, and returns (question, answer, params).
Drawn = tuple[str, int, dict[str, int]]
Template = Callable[[random.Random, _Work], Drawn]


def shopping(r: random.Random, w: _Work) -> Drawn:
    name, a_item, b_item = r.choice(NAMES), *r.sample(ITEMS, 2)
    a, pa, b, pb = r.randint(2, 9), r.randint(2, 12), r.randint(2, 9), r.randint(1, 8)
    bill = ((a * pa + b * pb) // 10 + r.randint(1, 5)) * 10
    q = (
        f"{name} buys {a} {a_item}s at ${pa} each and {b} {b_item}s at ${pb} each, and pays with ${bill}. "
        f"How much change, in dollars, does {name} get back?"
    )
    x = w.step(f"The {a_item}s cost {{}} dollars.", f"{a}*{pa}")
    y = w.step(f"The {b_item}s cost {{}} dollars.", f"{b}*{pb}")
    total = w.step("Together that is {} dollars.", f"{x}+{y}")
    return q, w.step("The change is {} dollars.", f"{bill}-{total}"), dict(a=a, pa=pa, b=b, pb=pb, bill=bill)


def wages(r: random.Random, w: _Work) -> Drawn:
    name, h, rate, d = r.choice(NAMES), r.randint(3, 9), r.randint(9, 30), r.randint(3, 6)
    q = f"{name} works {h} hours a day at ${rate} per hour, {d} days a week. How much is that per week?"
    daily = w.step("Each day brings in {} dollars.", f"{h}*{rate}")
    return q, w.step("In a week that is {} dollars.", f"{daily}*{d}"), dict(h=h, rate=rate, d=d)


def distance(r: random.Random, w: _Work) -> Drawn:
    name, s1, t1 = r.choice(NAMES), r.randint(30, 70), r.randint(1, 5)
    s2, t2 = r.randint(20, 60), r.randint(1, 4)
    q = (
        f"{name} drives at {s1} miles per hour for {t1} hours, then at {s2} miles per hour for {t2} hours. "
        f"How many miles does {name} drive in total?"
    )
    x = w.step("The first part is {} miles.", f"{s1}*{t1}")
    y = w.step("The second part is {} miles.", f"{s2}*{t2}")
    return q, w.step("In total that is {} miles.", f"{x}+{y}"), dict(s1=s1, t1=t1, s2=s2, t2=t2)


def ages(r: random.Random, w: _Work) -> Drawn:
    a, b = r.sample(NAMES, 2)
    young, k, years = r.randint(3, 15), r.randint(2, 4), r.randint(2, 12)
    q = f"{a} is {k} times as old as {b}. {b} is {young} years old. How old will {a} be in {years} years?"
    now = w.step(f"{a} is {{}} years old now.", f"{k}*{young}")
    later = w.step(f"In {years} years {a} will be {{}}.", f"{now}+{years}")
    return q, later, dict(k=k, young=young, years=years)


def discount(r: random.Random, w: _Work) -> Drawn:
    price, pct = 20 * r.randint(2, 30), 5 * r.randint(1, 10)
    q = f"A jacket costs ${price}. It is on sale for {pct}% off. What is the sale price in dollars?"
    off = w.step("The discount is {} dollars.", f"{price}*{pct}/100")
    return q, w.step("The sale price is {} dollars.", f"{price}-{off}"), dict(price=price, pct=pct)


def fractions(r: random.Random, w: _Work) -> Drawn:
    name, k, m = r.choice(NAMES), r.randint(2, 5), r.randint(2, 4)
    total = k * m * r.randint(2, 9)
    q = (
        f"{name} has {total} marbles. {name} gives 1/{k} of them to a friend, then 1/{m} of the rest to a "
        "sister. How many marbles are left?"
    )
    given = w.step("To the friend go {} marbles.", f"{total}/{k}")
    rest = w.step("That leaves {} marbles.", f"{total}-{given}")
    sister = w.step("The sister gets {} marbles.", f"{rest}/{m}")
    return q, w.step("So {} marbles are left.", f"{rest}-{sister}"), dict(total=total, k=k, m=m)


def trip_time(r: random.Random, w: _Work) -> Drawn:
    h1, m1 = r.randint(6, 11), 5 * r.randint(0, 11)
    h2, m2 = h1 + r.randint(1, 6), 5 * r.randint(0, 11)
    q = (
        f"A train leaves at {h1}:{m1:02d} and arrives at {h2}:{m2:02d} the same day. "
        "How many minutes does the trip take?"
    )
    start = w.step("It leaves {} minutes after midnight.", f"{h1}*60+{m1}")
    end = w.step("It arrives {} minutes after midnight.", f"{h2}*60+{m2}")
    return q, w.step("The trip takes {} minutes.", f"{end}-{start}"), dict(h1=h1, m1=m1, h2=h2, m2=m2)


def fence(r: random.Random, w: _Work) -> Drawn:
    length, width, cost = r.randint(8, 40), r.randint(5, 30), r.randint(3, 15)
    q = (
        f"A rectangular garden is {length} meters long and {width} meters wide. Fencing costs ${cost} per "
        "meter. How much does it cost to fence the whole garden?"
    )
    perimeter = w.step("The perimeter is {} meters.", f"2*({length}+{width})")
    total = w.step("The fence costs {} dollars.", f"{perimeter}*{cost}")
    return q, total, dict(length=length, width=width, cost=cost)


def carpet(r: random.Random, w: _Work) -> Drawn:
    length, width, cost = r.randint(6, 25), r.randint(5, 20), r.randint(2, 9)
    q = (
        f"A room is {length} feet by {width} feet. Carpet costs ${cost} per square foot. "
        "What does it cost to carpet the room?"
    )
    area = w.step("The floor is {} square feet.", f"{length}*{width}")
    total = w.step("The carpet costs {} dollars.", f"{area}*{cost}")
    return q, total, dict(length=length, width=width, cost=cost)


def savings(r: random.Random, w: _Work) -> Drawn:
    name, weekly, have, weeks = r.choice(NAMES), r.randint(5, 40), r.randint(10, 90), r.randint(3, 20)
    goal = have + weekly * weeks
    q = (
        f"{name} wants a bike that costs ${goal}. {name} has ${have} and saves ${weekly} each week. "
        f"How many weeks until {name} can buy the bike?"
    )
    need = w.step(f"{name} still needs {{}} dollars.", f"{goal}-{have}")
    return q, w.step("That takes {} weeks.", f"{need}/{weekly}"), dict(goal=goal, have=have, weekly=weekly)


def recipe(r: random.Random, w: _Work) -> Drawn:
    people, per, guests = r.randint(2, 8), 10 * r.randint(3, 15), r.randint(9, 40)
    flour = people * per
    q = f"A recipe for {people} people uses {flour} grams of flour. How many grams do {guests} people need?"
    each = w.step("Each person needs {} grams.", f"{flour}/{people}")
    needed = w.step(f"For {guests} people that is {{}} grams.", f"{each}*{guests}")
    return q, needed, dict(people=people, flour=flour, guests=guests)


def tank(r: random.Random, w: _Work) -> Drawn:
    fill, leak = r.randint(6, 20), r.randint(1, 5)
    volume = (fill - leak) * r.randint(5, 40)
    q = (
        f"A tap fills a tank at {fill} liters per minute, but the tank leaks {leak} liters per minute. "
        f"How many minutes does it take to fill the empty {volume}-liter tank?"
    )
    net = w.step("The tank gains {} liters per minute.", f"{fill}-{leak}")
    return q, w.step("It fills in {} minutes.", f"{volume}/{net}"), dict(fill=fill, leak=leak, volume=volume)


def profit(r: random.Random, w: _Work) -> Drawn:
    name, plural = r.choice(NAMES), r.choice(ITEMS) + "s"
    n, cost, broken = r.randint(20, 80), r.randint(2, 9), r.randint(1, 5)
    price = cost + r.randint(2, 8)
    q = (
        f"{name} buys {n} {plural} for ${cost} each and sells all but {broken} damaged ones for "
        f"${price} each. What is the profit in dollars?"
    )
    spent = w.step("The purchase costs {} dollars.", f"{n}*{cost}")
    sold = w.step(f"{name} sells {{}} {plural}.", f"{n}-{broken}")
    income = w.step("The sales bring {} dollars.", f"{sold}*{price}")
    gain = w.step("The profit is {} dollars.", f"{income}-{spent}")
    return q, gain, dict(n=n, cost=cost, broken=broken, price=price)


def average(r: random.Random, w: _Work) -> Drawn:
    name, target = r.choice(NAMES), r.randint(75, 90)
    scores = [r.randint(65, 98) for _ in range(3)]
    fourth = 4 * target - sum(scores)
    while not 0 < fourth <= 100:  # redraw until a fourth test score exists
        scores = [r.randint(65, 98) for _ in range(3)]
        fourth = 4 * target - sum(scores)
    a, b, c = scores
    q = f"{name} scored {a}, {b} and {c} on three tests. What fourth score makes the average {target}?"
    need = w.step("Four tests must add up to {} points.", f"4*{target}")
    have = w.step("The first three add up to {} points.", f"{a}+{b}+{c}")
    return q, w.step("The fourth score must be {}.", f"{need}-{have}"), dict(a=a, b=b, c=c, target=target)


def cookies(r: random.Random, w: _Work) -> Drawn:
    name, kids, each, eaten = r.choice(NAMES), r.randint(2, 9), r.randint(2, 8), r.randint(1, 10)
    baked = kids * each + eaten
    q = (
        f"{name} bakes {baked} cookies, eats {eaten}, and shares the rest equally among {kids} children. "
        "How many cookies does each child get?"
    )
    left = w.step("There are {} cookies to share.", f"{baked}-{eaten}")
    share = w.step("Each child gets {} cookies.", f"{left}/{kids}")
    return q, share, dict(baked=baked, eaten=eaten, kids=kids)


def legs(r: random.Random, w: _Work) -> Drawn:
    cows, hens = r.randint(3, 40), r.randint(5, 60)
    q = f"A farm has {cows} cows and {hens} chickens. How many legs do the animals have in total?"
    x = w.step("The cows have {} legs.", f"{cows}*4")
    y = w.step("The chickens have {} legs.", f"{hens}*2")
    return q, w.step("Altogether there are {} legs.", f"{x}+{y}"), dict(cows=cows, hens=hens)


def raise_(r: random.Random, w: _Work) -> Drawn:
    name, salary, pct = r.choice(NAMES), 100 * r.randint(20, 90), r.randint(2, 15)
    q = f"{name} earns ${salary} a month and gets a {pct}% raise. What is the new monthly salary in dollars?"
    extra = w.step("The raise is {} dollars.", f"{salary}*{pct}/100")
    return q, w.step("The new salary is {} dollars.", f"{salary}+{extra}"), dict(salary=salary, pct=pct)


def reading(r: random.Random, w: _Work) -> Drawn:
    name, p1, d1 = r.choice(NAMES), r.randint(10, 30), r.randint(2, 6)
    p2, d2 = r.randint(20, 50), r.randint(1, 4)
    pages = p1 * d1 + p2 * d2 + r.randint(10, 200)
    q = (
        f"{name}'s book has {pages} pages. {name} reads {p1} pages a day for {d1} days, then {p2} pages a "
        f"day for {d2} days. How many pages are left?"
    )
    x = w.step("First {} pages are read.", f"{p1}*{d1}")
    y = w.step("Then {} more pages.", f"{p2}*{d2}")
    return q, w.step("{} pages are left.", f"{pages}-{x}-{y}"), dict(pages=pages, p1=p1, d1=d1, p2=p2, d2=d2)


def coins(r: random.Random, w: _Work) -> Drawn:
    name, qs, ds, ns = r.choice(NAMES), r.randint(2, 20), r.randint(2, 20), r.randint(2, 20)
    q = f"{name} has {qs} quarters, {ds} dimes and {ns} nickels. How many cents is that?"
    x = w.step("The quarters are worth {} cents.", f"{qs}*25")
    y = w.step("The dimes are worth {} cents.", f"{ds}*10")
    z = w.step("The nickels are worth {} cents.", f"{ns}*5")
    return q, w.step("The total is {} cents.", f"{x}+{y}+{z}"), dict(qs=qs, ds=ds, ns=ns)


def ratio(r: random.Random, w: _Work) -> Drawn:
    a, b = r.choice(COPRIME_PAIRS)
    total = (a + b) * r.randint(3, 20)
    q = f"A club has {total} members and the ratio of boys to girls is {a}:{b}. How many girls are there?"
    parts = w.step("There are {} parts in all.", f"{a}+{b}")
    size = w.step("Each part is {} members.", f"{total}/{parts}")
    return q, w.step("The girls number {}.", f"{size}*{b}"), dict(a=a, b=b, total=total)


# fmt: off
TEMPLATES: tuple[Template, ...] = (
    shopping, wages, distance, ages, discount, fractions, trip_time, fence, carpet, savings,
    recipe, tank, profit, average, cookies, legs, raise_, reading, coins, ratio,
)
# fmt: on


def generate_problems(count: int, seed: int = 0) -> Iterator[MathProblem]:
    """`count` problems, the same for the same seed on any machine and Python run.

    Item i depends only on (seed, i), so raising `count` appends problems without changing earlier ones.
    Templates take turns, so every template is used count/20 times (rounded).
    """
    for index in range(count):
        template = TEMPLATES[index % len(TEMPLATES)]
        # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
        work = _Work()
        question, answer, params = template(random.Random(f"synthetic-math:{seed}:{index}"), work)
        solution = " ".join(work.lines) + f"\n#### {answer}"
        yield MathProblem(
            f"synthmath-{index:04d}", template.__name__.rstrip("_"), question, solution, answer, params
        )
