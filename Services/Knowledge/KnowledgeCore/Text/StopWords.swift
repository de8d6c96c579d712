/// Portuguese stop words (folded: no accents, lower case), shipped with the service. Based on
/// the Snowball Portuguese stop list, plus a few words customers type in every ticket subject
/// that carry no meaning for search ("ola", "favor", "urgente").
public enum StopWords {
    /// The list, one folded word per entry.
    public static let portuguese: Set<String> = Set("""
        a ao aos aquela aquelas aquele aqueles aquilo as ate com como da das de dela delas dele deles
        depois do dos e ela elas ele eles em entre era eram essa essas esse esses esta estamos estao
        estas estava estavam este esteja estejam estejamos estes esteve estive estivemos estiver
        estivera estiveram estiverem estivermos estivesse estivessem estivessemos estou eu foi fomos
        for fora foram forem formos fosse fossem fossemos fui ha haja hajam hajamos hao havemos hei
        houve houvemos houver houvera houveram houverei houverem houveremos houveria houveriam
        houveriamos houvermos houvesse houvessem houvessemos isso isto ja lhe lhes mais mas me mesmo
        meu meus minha minhas muito na nao nas nem no nos nossa nossas nosso nossos num numa o os ou
        para pela pelas pelo pelos por qual quando que quem sao se seja sejam sejamos sem sera serao
        serei seremos seria seriam seriamos seu seus so somos sou sua suas tambem te tem temos tenha
        tenham tenhamos tenho ter tera terao terei teremos teria teriam teriamos teu teus teve tinha
        tinham tinhamos tive tivemos tiver tivera tiveram tiverem tivermos tivesse tivessem
        tivessemos tu tua tuas um uma voce voces vos
        ola oi bom dia boa tarde noite favor obrigado obrigada urgente ajuda preciso gostaria
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
}
